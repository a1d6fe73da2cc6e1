/**
 * An answer holding `<script>alert(1)</script>` and `<img src=x onerror=alert(1)>`, recorded through the real
 * proxy, is shown by the conversation browser as text: the text is visible on the conversation page, the
 * exchanges list and the exchange's raw JSON, no `<script>` or `<img>` element comes from it, and no dialog opens.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FIXTURE_MODELS,
  recordXss,
  settle,
  startUiFixtureProxy,
  type UiFixtureProxy,
  XSS_ANSWER,
} from "../helpers/ui-fixtures.js";
import { launchChromium, logIn, screenshot, watchedContext } from "./ui-browser.js";

let fixtures: UiFixtureProxy;
let browser: Browser;
beforeAll(async () => {
  fixtures = await startUiFixtureProxy();
  await recordXss(fixtures);
  await settle(fixtures);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await fixtures?.close();
});

describe("an answer with HTML in it", () => {
  it("renders as text, with no element and no dialog from it", async () => {
    const origin = fixtures.proxy.url;
    const { context, watch } = await watchedContext(browser, origin);
    try {
      await logIn(context, origin);
      const page = await context.newPage();
      await page.goto(`${origin}/ui/#/conversations?model=${FIXTURE_MODELS.xss}`);
      await page.locator("table.data-table tbody tr a").first().click();
      const answer = page.locator(".message.role-assistant .markdown").first();
      await answer.waitFor();
      expect(await answer.innerText()).toBe(XSS_ANSWER);
      // Evaluated in the page (this project's TypeScript has no DOM types).
      const fromIt = await page.evaluate<{ scripts: string[]; images: (string | null)[]; handlers: number }>(`({
        scripts: [...document.querySelectorAll("script")].map((s) => s.src || s.textContent),
        images: [...document.querySelectorAll("img")].map((i) => i.getAttribute("src")),
        handlers: [...document.querySelectorAll("*")].filter((e) => e.hasAttribute("onerror")).length,
      })`);
      expect(fromIt.scripts).toEqual([`${origin}/ui/app.js`]);
      expect(fromIt.images).toEqual([]);
      expect(fromIt.handlers).toBe(0);
      await screenshot(page, "xss-conversation");

      await page.goto(`${origin}/ui/#/exchanges`);
      await page.locator("table.data-table tbody tr").first().waitFor();
      await page.locator("table.data-table tbody tr a").first().click();
      await page.locator(".raw-json").waitFor();
      expect(await page.locator(".raw-json").innerText()).toContain(JSON.stringify(XSS_ANSWER));
      expect(await page.locator("img").count()).toBe(0);
      expect(await page.locator("body script").count()).toBe(0);

      expect(watch.dialogs).toEqual([]);
      expect(watch.problems).toEqual([]);
      expect(watch.outside).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
