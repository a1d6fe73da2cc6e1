/**
 * Debian's headless Chromium (playwright-core, no browser download; flags as in test/helpers/report-page.ts)
 * for the conversation browser's page tests, and a watch on every page it opens: each request must stay on the
 * proxy's origin (or be a `data:` URL), and no console error, uncaught exception, CSP violation or dialog may
 * happen. Screenshots go to `test-results/ui/`.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { UI_MASTER_KEY } from "../helpers/ui-fixtures.js";
export { launchChromium } from "../helpers/chromium.js";

/** Where the screenshots go. */
export const SCREENSHOT_DIR = fileURLToPath(new URL("../../test-results/ui/", import.meta.url));

/** What went wrong on the watched pages of a context. */
export interface Watch {
  /** Requests to anything but the proxy's origin or a `data:` URL. */
  outside: string[];
  /** Console errors, uncaught exceptions and CSP violations, as text. */
  problems: string[];
  /** Messages of the dialogs (`alert`, `confirm`, …) any page opened. */
  dialogs: string[];
}

/**
 * A fresh context (1400×1000) whose pages are watched (see {@link Watch}).
 * @param origin the proxy's origin, `http://127.0.0.1:PORT`
 */
export async function watchedContext(
  browser: Browser,
  origin: string,
): Promise<{ context: BrowserContext; watch: Watch }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const watch: Watch = { outside: [], problems: [], dialogs: [] };
  // Runs before the page's own code (injected scripts are not subject to the page's CSP); a string, as this
  // project's TypeScript has no DOM types.
  await context.addInitScript(
    'document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));',
  );
  const watchPage = (page: Page): void => {
    page.on("request", (request) => {
      const url = request.url();
      if (!(url === origin || url.startsWith(`${origin}/`) || url.startsWith("data:"))) watch.outside.push(url);
    });
    page.on("console", (message) => {
      if (message.type() === "error") watch.problems.push(`console: ${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => watch.problems.push(`uncaught: ${error.message}`));
    page.on("dialog", (dialog) => {
      watch.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  };
  context.on("page", watchPage);
  return { context, watch };
}

/**
 * Logs the context in with a key through `POST /ui/login` (its cookie lands in the context's cookie jar).
 * @throws when the login is refused
 */
export async function logIn(context: BrowserContext, origin: string, key = UI_MASTER_KEY): Promise<void> {
  const answer = await context.request.post(`${origin}/ui/login`, { form: { key }, maxRedirects: 0 });
  if (answer.status() !== 303)
    throw new Error(`login answered ${answer.status()}: ${(await answer.text()).slice(0, 200)}`);
}

/** Saves a full-page screenshot as `test-results/ui/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
