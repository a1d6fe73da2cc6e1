/**
 * Temp directories of the tests, removed after each test file (a light
 * module on purpose: test/setup-temp-dirs.ts imports it before the test
 * file, so it must not load the code under test, which a test file's
 * `vi.mock` could then no longer replace).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** The directories {@link tempDir} made in this test file and has not removed yet. */
const madeTempDirs = new Set<string>();

/**
 * A new temp directory. The caller may remove it; whatever is left is removed after the test
 * file by {@link removeTempDirs} (test/setup-temp-dirs.ts, a vitest `setupFiles` entry).
 */
export function tempDir(prefix = "llm-relay-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  madeTempDirs.add(dir);
  return dir;
}

/** Removes every directory {@link tempDir} made (those already gone are skipped). */
export function removeTempDirs(): void {
  for (const dir of madeTempDirs) fs.rmSync(dir, { recursive: true, force: true });
  madeTempDirs.clear();
}
