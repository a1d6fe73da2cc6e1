/**
 * Debian's headless Chromium for the page tests (playwright-core, no browser download): its path
 * (`CHROMIUM_PATH`, default `/usr/bin/chromium`) and flags, in one place.
 */
import { chromium, type Browser } from "playwright-core";

/** The Chromium binary the page tests drive. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Headless flags: no sandbox (root in CI), no GPU, nothing fetched in the background. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Launches headless Chromium. @throws when it cannot start */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
