/**
 * `llm-relay ui` (the browser without the proxy) over a logs.db the proxy recorded: the same pages, logged in
 * with the master key; no Live page in the menu, and `#/live` says why instead of opening a stream that cannot
 * exist. No request leaves the origin, no console error.
 */
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUiServer, type UiServer } from "../../src/cli/ui.js";
import { loadConfig } from "../../src/config/load.js";
import {
  FIXTURE_TEXT,
  recordToolLoop,
  settle,
  startUiFixtureProxy,
  UI_MASTER_KEY,
  type UiFixtureProxy,
} from "../helpers/ui-fixtures.js";
import { launchChromium, logIn, screenshot, watchedContext } from "./ui-browser.js";

let fixtures: UiFixtureProxy;
let ui: UiServer;
let browser: Browser;
beforeAll(async () => {
  fixtures = await startUiFixtureProxy();
  await recordToolLoop(fixtures);
  await settle(fixtures);
  const config = loadConfig({ cwd: path.dirname(fixtures.proxy.dbPath), env: {}, db: fixtures.proxy.dbPath });
  ui = await startUiServer({ ...config, masterKey: UI_MASTER_KEY }, "127.0.0.1", 0);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await fixtures?.close();
});

describe("llm-relay ui", () => {
  it("shows the recorded conversations, and no Live page", async () => {
    const { context, watch } = await watchedContext(browser, ui.url);
    try {
      await logIn(context, ui.url);
      const page = await context.newPage();
      await page.goto(`${ui.url}/ui/#/conversations`);
      await page.locator("table.data-table tbody tr").first().waitFor();
      expect(await page.locator("table.data-table tbody").innerText()).toContain(FIXTURE_TEXT.toolQuestion);
      await page.locator("table.data-table tbody tr a").first().click();
      await page.locator(".copy-command code").waitFor();
      expect(await page.locator(".copy-command code").innerText()).toMatch(
        new RegExp(` -d ${fixtures.proxy.dbPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`),
      );
      expect(await page.locator(".main-nav a").allInnerTexts()).toEqual([
        "Conversations",
        "Exchanges",
        "Usage",
        "Bench",
      ]);

      await page.goto(`${ui.url}/ui/#/live`);
      await page.getByText("nothing is in flight").waitFor();
      expect(await page.locator("table.in-flight").count()).toBe(0);
      await screenshot(page, "browse-only-live");

      expect(watch.outside).toEqual([]);
      expect(watch.problems).toEqual([]);
      expect(watch.dialogs).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
