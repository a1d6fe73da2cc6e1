/**
 * The conversation browser (issue 21) as a user sees it, in real Chromium against the real proxy: the fixture
 * set (test/helpers/ui-fixtures.ts) is recorded through the proxy, then every page is opened at `/ui/` on the
 * proxy's origin, logged in with the master key. Each page shows the recorded data; search and filters narrow the
 * lists; the conversation page renders tool calls, reasoning (closed until clicked), images (`data:` shown,
 * remote ones as links) and the raw JSON; errors-first puts the error on top and its detail shows the attempts;
 * usage draws its charts and the budgets; live shows a held-open stream while it runs. On every page no request
 * leaves the proxy's origin, and no console error, uncaught exception, CSP violation or dialog happens.
 * Screenshots: `test-results/ui/<page>-<store>.png`. The same suite runs on a SQLite and a PostgreSQL store.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { until } from "../helpers/until.js";
import {
  DATA_IMAGE,
  FIXTURE_MODELS,
  FIXTURE_TEXT,
  holdStream,
  recordBenchRun,
  recordUiFixtures,
  REMOTE_IMAGE,
  startUiFixtureProxy,
  UI_MASTER_KEY,
  type UiFixtureProxy,
} from "../helpers/ui-fixtures.js";
import { launchChromium, logIn, screenshot, type Watch, watchedContext } from "./ui-browser.js";

/** How to start a fixture proxy on one store, and how to drop what it made. */
interface Store {
  name: "sqlite" | "postgres";
  /** Whether it holds bench runs (they live in the SQLite logs.db only). */
  bench: boolean;
  start(): Promise<{ fixtures: UiFixtureProxy; drop(): Promise<void> }>;
}

const STORES: Store[] = [
  {
    name: "sqlite",
    bench: true,
    async start() {
      const fixtures = await startUiFixtureProxy();
      return { fixtures, drop: () => fixtures.close() };
    },
  },
  {
    name: "postgres",
    bench: false,
    async start() {
      const schema: TestSchema = await createTestSchema();
      const fixtures = await startUiFixtureProxy(schema.url);
      return {
        fixtures,
        async drop() {
          await fixtures.close();
          await schema.drop();
        },
      };
    },
  },
];

/** The text of every row of the page's (first) data table. */
async function rowTexts(page: Page): Promise<string[]> {
  return page.locator("table.data-table tbody tr").allInnerTexts();
}

/** Waits until the list shows `n` rows (the list has loaded its answer to the current hash). */
async function waitForRows(page: Page, check: (rows: string[]) => boolean, what: string): Promise<string[]> {
  let last: string[] = [];
  await until(
    () => `${what}; rows: ${JSON.stringify(last)}`,
    async () => {
      last = (await page.locator(".table-block").count()) > 0 ? await rowTexts(page) : [];
      return (await page.locator('.loading, [aria-busy="true"]').count()) === 0 && check(last);
    },
    { timeoutMs: 10_000 },
  );
  return last;
}

for (const store of STORES) {
  describe(`the conversation browser on ${store.name}`, () => {
    let started: { fixtures: UiFixtureProxy; drop(): Promise<void> };
    let benchRunId: string | null = null;
    let browser: Browser;
    let origin: string;
    let context: BrowserContext | undefined;
    let watch: Watch | undefined;

    beforeAll(async () => {
      started = await store.start();
      origin = started.fixtures.proxy.url;
      await recordUiFixtures(started.fixtures);
      if (store.bench) benchRunId = await recordBenchRun(started.fixtures);
      browser = await launchChromium();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await started?.drop();
    });

    /** A logged-in, watched page. */
    async function openPage(hash: string): Promise<Page> {
      const opened = await watchedContext(browser, origin);
      ({ context, watch } = opened);
      await logIn(opened.context, origin);
      const page = await opened.context.newPage();
      await page.goto(`${origin}/ui/${hash}`);
      return page;
    }

    afterEach(async () => {
      const seen = watch;
      watch = undefined;
      try {
        expect(seen, "the test opened a watched context").toBeDefined();
        expect(seen!.outside, "requests outside the proxy's origin").toEqual([]);
        expect(seen!.problems, "console errors, uncaught exceptions, CSP violations").toEqual([]);
        expect(seen!.dialogs, "dialogs").toEqual([]);
      } finally {
        await context?.close();
        context = undefined;
      }
    });

    it("asks for the master key: no cookie → the login page, a wrong key → an error, the right key → the pages", async () => {
      const opened = await watchedContext(browser, origin);
      ({ context, watch } = opened);
      const page = await opened.context.newPage();
      await page.goto(`${origin}/ui/#/conversations`);
      // The login form, where the pages were asked for (401) or at /ui/login.
      await page.locator('input[name="key"]').waitFor();
      expect(await page.locator("table.data-table").count()).toBe(0);
      const api = await opened.context.request.get(`${origin}/ui/api/conversations`);
      expect(api.status()).toBe(401);

      await page.fill('input[name="key"]', "not-the-master-key");
      const [refused] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${origin}/ui/login` && r.request().method() === "POST"),
        page.press('input[name="key"]', "Enter"),
      ]);
      expect(refused.status()).toBe(401);
      await page.waitForLoadState();
      expect(await page.locator('input[name="key"]').count()).toBe(1);
      expect(await page.locator("body").innerText()).toMatch(/not the master key/i);
      await screenshot(page, `login-refused-${store.name}`);

      await page.fill('input[name="key"]', UI_MASTER_KEY);
      await Promise.all([page.waitForURL(`${origin}/ui/`), page.press('input[name="key"]', "Enter")]);
      await page.goto(`${origin}/ui/#/conversations`);
      await waitForRows(page, (rows) => rows.length > 0, "the conversations after login");
      expect((await opened.context.request.get(`${origin}/ui/api/facets`)).status()).toBe(200);
      // Chromium logs the 401 of each refused page load (the protection this test asks for).
      const expected = [
        `status of 401 (Unauthorized) (${origin}/ui/#/conversations)`,
        `status of 401 (Unauthorized) (${origin}/ui/login)`,
      ];
      opened.watch.problems = opened.watch.problems.filter((p) => !expected.some((e) => p.endsWith(e)));
    });

    it("lists the conversations, finds the aider one by a word of it, and filters by model, tenant and status", async () => {
      const page = await openPage("#/conversations");
      const all = await waitForRows(page, (rows) => rows.length >= 7, "every fixture conversation");
      expect(all.some((row) => row.includes("TestModelName"))).toBe(true);
      expect(all.some((row) => row.includes(FIXTURE_TEXT.toolQuestion))).toBe(true);
      expect(all.some((row) => row.includes(FIXTURE_TEXT.globexPrompt))).toBe(true);
      expect(await page.locator(".table-meta .count").innerText()).toMatch(/^\d+ conversations$/);
      await screenshot(page, `conversations-${store.name}`);

      await page.fill('input[name="search"]', FIXTURE_TEXT.aiderWord);
      await page.press('input[name="search"]', "Enter");
      const found = await waitForRows(
        page,
        (rows) => rows.length === 1 && rows[0]!.includes("TestModelName"),
        "the search to find one conversation",
      );
      expect(found[0]).toContain("Change the greeting");
      expect(found[0]).toContain("TestModelName");
      expect(found[0]).toContain("aider/0.86.1");
      expect(page.url()).toContain("search=fibonacci");

      // Pages of 3 by cursor: the next page holds the following conversations, "First page" goes back.
      await page.goto(`${origin}/ui/#/conversations?limit=3`);
      const first = await waitForRows(page, (rows) => rows.length === 3 && rows[0] === all[0], "the first page of 3");
      expect(first).toEqual(all.slice(0, 3));
      await page.getByRole("link", { name: "Next page" }).click();
      const second = await waitForRows(page, (rows) => rows.length === 3 && rows[0] === all[3], "the second page");
      expect(second).toEqual(all.slice(3, 6));
      expect(page.url()).toMatch(/limit=3&cursor=|cursor=.*limit=3/);
      await page.getByRole("link", { name: "First page" }).click();
      await waitForRows(page, (rows) => rows[0] === all[0], "the first page again");

      await page.goto(`${origin}/ui/#/conversations`);
      await waitForRows(page, (rows) => rows.length >= 7, "the list again");
      await page.selectOption('select[name="model"]', FIXTURE_MODELS.think);
      const think = await waitForRows(
        page,
        (rows) => rows.length === 1 && rows[0]!.includes(FIXTURE_MODELS.think),
        "the model filter",
      );
      expect(think[0]).toContain(FIXTURE_MODELS.think);

      await page.goto(`${origin}/ui/#/conversations?tenant=globex`);
      const globex = await waitForRows(
        page,
        (rows) => rows.length === 1 && rows[0]!.includes("globex"),
        "the tenant filter",
      );
      expect(globex[0]).toContain(FIXTURE_TEXT.globexPrompt);
      expect(await page.locator('select[name="tenant"]').inputValue()).toBe("globex");

      await page.goto(`${origin}/ui/#/conversations`);
      await waitForRows(page, (rows) => rows.length >= 7, "the list again");
      await page.selectOption('select[name="status"]', "error");
      const errors = await waitForRows(
        page,
        (rows) => rows.length === 1 && rows[0]!.includes(FIXTURE_MODELS.broken),
        "the status filter",
      );
      expect(errors[0]).toContain(FIXTURE_TEXT.errorPrompt.slice(0, 24));
      expect(errors[0]).toContain("error");
    });

    it("shows the aider conversation's turns, its llm -c command and the raw JSON", async () => {
      const page = await openPage(`#/conversations?search=${FIXTURE_TEXT.aiderWord}`);
      await waitForRows(page, (rows) => rows.length === 1, "the aider conversation");
      await page.locator("table.data-table tbody tr a").first().click();
      // aider sends its chat history: its earlier turns are history rows, then the two exchanges sent.
      const turns = page.locator("section.turn");
      await turns.nth(2).waitFor();
      const count = await turns.count();
      const last = turns.nth(count - 1);
      expect(await last.innerText()).toContain(FIXTURE_TEXT.aiderFollowUp);
      expect(await last.locator(".turn-meta").innerText()).toMatch(/model\s+TestModelName/);
      expect(await turns.nth(count - 2).innerText()).toContain(FIXTURE_TEXT.aiderWord);
      expect(await turns.first().locator(".status").innerText()).toBe("history");
      const command = await page.locator(".copy-command code").innerText();
      await context!.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
      await page.locator(".copy-command button").click();
      await until(
        "the Copy button to say Copied",
        async () => (await page.locator(".copy-command button").innerText()) === "Copied",
      );
      expect(await page.evaluate<string>("navigator.clipboard.readText()")).toBe(command);
      const id = decodeURIComponent(new URL(page.url()).hash.split("/")[2]!);
      expect(command.startsWith(`llm -c --cid ${id}`)).toBe(true);
      if (store.name === "sqlite") expect(command).toBe(`llm -c --cid ${id} -d ${started.fixtures.proxy.dbPath}`);

      const first = turns.nth(count - 2);
      expect(await first.locator(".raw-json").count()).toBe(0);
      await first.locator("details.raw > summary").click();
      await first.locator(".raw-json .json-view").first().waitFor();
      const raw = await first.locator(".raw-json").innerText();
      expect(raw).toContain("Request (as recorded)");
      expect(raw).toContain('"TestModelName"');
      await screenshot(page, `conversation-${store.name}`);

      // Three turns a page: the rest come by "Show the next turns", in order, until every turn is shown.
      await page.goto(`${origin}/ui/#/conversations/${encodeURIComponent(id)}?limit=3`);
      await until("the first page of three turns", async () => (await turns.count()) === 3);
      expect(await page.locator(".more-turns").innerText()).toContain(`3 of ${count} turns shown`);
      while ((await turns.count()) < count) {
        const shown = await turns.count();
        await page.locator(".more-turns button").click();
        await until("the next page of turns", async () => (await turns.count()) > shown);
      }
      expect(await page.locator(".more-turns").count()).toBe(0);
      expect(await turns.nth(count - 1).innerText()).toContain(FIXTURE_TEXT.aiderFollowUp);
    });

    it("renders the tool call and its result, the reasoning closed until clicked, and the request's images", async () => {
      const page = await openPage("#/conversations?search=weather");
      await waitForRows(page, (rows) => rows.length === 1 && rows[0]!.includes("weather"), "the tool loop");
      await page.locator("table.data-table tbody tr a").first().click();
      const call = page.locator("details.tool-call").first();
      await call.waitFor();
      expect(await call.innerText()).toContain("get_weather");
      expect(await call.locator("pre").innerText()).toBe('{\n  "city": "Paris",\n  "unit": "celsius"\n}');
      expect(await page.locator("details.tool-result pre").first().innerText()).toContain('"temperature_c": 12');
      expect(await page.locator("section.turn").nth(1).innerText()).toContain(FIXTURE_TEXT.toolAnswer);
      await screenshot(page, `conversation-tools-${store.name}`);

      await page.goto(`${origin}/ui/#/conversations?model=${FIXTURE_MODELS.think}`);
      await waitForRows(
        page,
        (rows) => rows.length === 1 && rows[0]!.includes(FIXTURE_MODELS.think),
        "the reasoning conversation",
      );
      await page.locator("table.data-table tbody tr a").first().click();
      const reasoning = page.locator("details.reasoning").first();
      await reasoning.waitFor();
      expect(await reasoning.getAttribute("open")).toBeNull();
      expect(await page.getByText(FIXTURE_TEXT.reasoning).isVisible()).toBe(false);
      expect(await page.getByText(FIXTURE_TEXT.reasoningAnswer).isVisible()).toBe(true);
      await reasoning.locator("summary").click();
      expect(await reasoning.getAttribute("open")).not.toBeNull();
      expect(await page.getByText(FIXTURE_TEXT.reasoning).isVisible()).toBe(true);
      await screenshot(page, `conversation-reasoning-${store.name}`);

      await page.goto(`${origin}/ui/#/conversations?search=picture`);
      await waitForRows(page, (rows) => rows.length === 1 && rows[0]!.includes("picture"), "the image conversation");
      await page.locator("table.data-table tbody tr a").first().click();
      const image = page.locator(`img[src="${DATA_IMAGE}"]`);
      await image.waitFor();
      // Run in the page; this project's TypeScript has no DOM types, so the element is typed by what is read.
      await until(
        "the data: image to load",
        async () => (await image.evaluate((img: { naturalWidth: number }) => img.naturalWidth)) === 4,
      );
      expect(await page.locator(`img[src="${REMOTE_IMAGE}"]`).count()).toBe(0);
      expect(await page.locator(`a[href="${REMOTE_IMAGE}"]`).innerText()).toContain(REMOTE_IMAGE);
      await screenshot(page, `conversation-images-${store.name}`);
    });

    it("lists the exchanges errors first, and the error's detail shows its two attempts on the time line", async () => {
      const page = await openPage("#/exchanges");
      const newest = await waitForRows(page, (rows) => rows.length >= 10, "every exchange");
      expect(newest[0]).not.toContain(FIXTURE_TEXT.errorPrompt);
      await page.check('input[name="errors-first"]');
      const rows = await waitForRows(
        page,
        (r) => r[0]?.includes(FIXTURE_TEXT.errorPrompt) ?? false,
        "the error on top",
      );
      expect(rows[0]).toMatch(/error 500/);
      expect(page.url()).toContain("order=errors-first");
      await screenshot(page, `exchanges-${store.name}`);

      await page.locator("table.data-table tbody tr").first().locator("a").first().click();
      await page.locator("svg.timeline").waitFor();
      expect(await page.locator("svg.timeline g.attempt").count()).toBe(2);
      expect(await page.locator("svg.timeline g.attempt-error").count()).toBe(2);
      const attempts = await page.locator("table.attempts tbody tr").allInnerTexts();
      expect(attempts).toHaveLength(2);
      for (const row of attempts) expect(row).toMatch(/error 500/);
      expect(await page.locator(".turn-error-message").innerText()).not.toBe("");
      expect(await page.locator(".raw-json").innerText()).toContain(FIXTURE_MODELS.broken);
      await screenshot(page, `exchange-${store.name}`);
    });

    it("draws the usage charts per day, the totals per model and tenant, and the budgets with what is left", async () => {
      const page = await openPage("#/usage");
      await page.locator(".chart-box canvas").nth(1).waitFor();
      const sizes = await page
        .locator(".chart-box canvas")
        .evaluateAll((canvases: { width: number; height: number }[]) => canvases.map((c) => [c.width, c.height]));
      expect(sizes).toHaveLength(2);
      for (const [width, height] of sizes) expect(width! > 100 && height! > 100).toBe(true);
      const totals = await page.locator("table.totals tbody tr").allInnerTexts();
      expect(totals.some((row) => row.startsWith(FIXTURE_MODELS.tool))).toBe(true);
      expect(totals.some((row) => row.startsWith("echo"))).toBe(true);

      const budgets = await page.locator("table.budgets tbody tr").allInnerTexts();
      const acme = budgets.find((row) => row.includes(started.fixtures.acme.key.id));
      expect(acme).toMatch(/\$5\.00/);
      expect(acme).toMatch(/30 days/);
      const globex = budgets.find((row) => /^tenant\s+globex/.test(row));
      expect(globex).toMatch(/\$1\.00/);
      await screenshot(page, `usage-${store.name}`);

      await page.selectOption('select[name="by"]', "tenant");
      await until("the totals per tenant", async () => {
        const rows = await page.locator("table.totals tbody tr").allInnerTexts();
        return rows.some((r) => r.startsWith("acme")) && rows.some((r) => r.startsWith("globex"));
      });
    });

    it("lists the bench runs, each with a link to its report", async () => {
      const page = await openPage("#/bench");
      await until("the bench runs", async () => (await page.locator(".page.bench .loading").count()) === 0);
      expect(await page.locator(".page.bench .error-box").count()).toBe(0);
      if (!store.bench) {
        expect(await page.locator(".page.bench .empty").innerText()).toMatch(/No bench run yet/);
        await screenshot(page, `bench-${store.name}`);
        return;
      }
      const rows = await page.locator("table.data-table tbody tr").allInnerTexts();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toContain(benchRunId!);
      expect(rows[0]).toMatch(/\bdone\b/);
      expect(rows[0]).toContain("echo");
      await screenshot(page, `bench-${store.name}`);
      const href = await page.locator("table.data-table tbody tr a").getAttribute("href");
      expect(href).toBe(`/ui/bench/${benchRunId}/report`);
      const report = await page.goto(`${origin}${href}`);
      expect(report?.status()).toBe(200);
      await page.locator("table.summary").waitFor();
      expect(await page.locator("table.summary").innerText()).toContain("echo");
      await screenshot(page, `bench-report-${store.name}`);
    });

    it("shows a held-open stream on the live page while it runs, and drops it once it ends", async () => {
      const page = await openPage("#/live");
      await page.locator(".in-flight-empty").waitFor();
      const held = await holdStream(started.fixtures);
      const row = page.locator("table.in-flight tbody tr");
      await row.first().waitFor({ timeout: 10_000 });
      const text = await row.first().innerText();
      expect(text).toContain(FIXTURE_MODELS.slow);
      expect(text).toContain("acme");
      expect(text).toContain("stream");
      expect(await page.locator(".connection").innerText()).toBe("connected");
      await screenshot(page, `live-${store.name}`);
      expect(await held.finish()).toContain("[DONE]");
      await page.locator(".in-flight-empty").waitFor({ timeout: 10_000 });
    });
  });
}
