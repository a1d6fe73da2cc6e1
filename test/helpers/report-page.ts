/**
 * Opens a bench HTML report in Debian's headless Chromium (playwright-core,
 * no browser download): the report is written under `test-results/` (kept
 * for a look after a failure) and opened from its file URL in a fresh profile.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type BrowserContext } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.js";
import { tempDir } from "./temp-dirs.js";

/** A report written to `test-results/<fileName>` and a Chromium context to open it in; close the context when done. */
export interface ReportPage {
  /** The report's `file://` URL. */
  url: string;
  /** A headless Chromium context (1400×1000 viewport). */
  context: BrowserContext;
  /** The `test-results/` folder, for screenshots beside the report. */
  resultsDir: string;
}

/**
 * Writes `html` to `test-results/<fileName>` and launches headless Chromium (`CHROMIUM_PATH`, default `/usr/bin/chromium`).
 * @throws when Chromium cannot be launched
 */
export async function openReportContext(html: string, fileName: string): Promise<ReportPage> {
  const resultsDir = fileURLToPath(new URL("../../test-results/", import.meta.url));
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, fileName);
  fs.writeFileSync(file, html);
  const context = await chromium.launchPersistentContext(tempDir("llm-relay-chromium-"), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 1000 },
  });
  return { url: pathToFileURL(file).href, context, resultsDir };
}
