/**
 * vitest `setupFiles` entry: after each test file, removes the temp
 * directories it made with `tempDir()` (test/helpers/proxy.ts) and did not
 * remove itself, so a run leaves no `/tmp/llm-relay-*` folders behind.
 * Registered before the file's own hooks, so it runs after them (vitest runs
 * `after*` hooks in reverse order): nothing is removed while still in use.
 */
import { afterAll } from "vitest";
import { removeTempDirs } from "./helpers/temp-dirs.js";

afterAll(() => {
  removeTempDirs();
});
