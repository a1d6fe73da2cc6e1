/**
 * The Bench page's routes on the real proxy: a bench run made by the bench's own code (the bench tests'
 * helpers: ten exchanges recorded through the proxy, replayed against two fake candidates) is listed by
 * `/ui/api/bench/runs` and its HTML report served at `/ui/bench/<id>/report` — today's renderer, under
 * a CSP that allows its inline scripts by hash and nothing from elsewhere — and the report draws its
 * charts in Chromium from the proxy's origin without a CSP violation or a request elsewhere.
 */
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type LLMClient } from "../../src/index.js";
import { runBench } from "../../src/bench/runner.js";
import { createRun, planRun } from "../../src/bench/session.js";
import { BenchStore } from "../../src/bench/storage/bench-store.js";
import type { BenchRun } from "../../src/bench/types.js";
import type { BenchRunView } from "../../src/server/ui/api-types.js";
import { send } from "../helpers/exchanges.js";
import { tempDir } from "../helpers/temp-dirs.js";
import { benchConfig, FAST, SLOW, startCandidates, type Candidates } from "../bench-replay/helpers/bench-setup.js";
import { recordFixture, type RecordedFixture } from "../bench-replay/helpers/recorded-exchanges.js";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../helpers/chromium.js";

let fixture: RecordedFixture;
let candidates: Candidates;
let client: LLMClient;
let run: BenchRun;

beforeAll(async () => {
  fixture = await recordFixture();
  candidates = await startCandidates(fixture.exchanges);
  const config = benchConfig(fixture.proxy.dbPath, candidates);
  client = createClient({ config });
  const store = BenchStore.open(fixture.proxy.dbPath);
  try {
    const settings = { repeat: 1, concurrency: 4, maxTokens: null, temperature: null, judge: null, checks: [] };
    const plan = planRun(store, config, {}, [FAST, SLOW], settings);
    run = createRun(store, plan, {});
    await runBench({ client, store, run, cases: plan.cases });
  } finally {
    store.close();
  }
}, 60_000);

afterAll(async () => {
  await client?.close();
  await candidates?.close();
  await fixture?.close();
});

describe("the bench routes of /ui", () => {
  it("lists the run with its candidates, cases and results", async () => {
    const answer = await send(`${fixture.proxy.url}/ui/api/bench/runs`);
    expect(answer.status).toBe(200);
    const runs = (answer.json as { data: BenchRunView[] }).data;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      id: run.id,
      created: run.createdUtc,
      status: "done",
      candidates: [FAST, SLOW],
      cases: fixture.answered.length,
      results: fixture.answered.length * 2,
      errors: 0,
    });
    expect(runs[0]!.finished).not.toBeNull();
  });

  it("serves the run's HTML report under its own CSP, and 404 for an unknown run", async () => {
    const report = await send(`${fixture.proxy.url}/ui/bench/${run.id}/report`);
    expect(report.status).toBe(200);
    expect(report.headers.get("content-type")).toContain("text/html");
    expect(report.text).toContain(FAST);
    const csp = report.headers.get("content-security-policy")!;
    expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]{44}' 'sha256-[A-Za-z0-9+/=]{44}';/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(report.headers.get("x-content-type-options")).toBe("nosniff");
    const unknown = await send(`${fixture.proxy.url}/ui/bench/01aaaaaaaaaaaaaaaaaaaaaaaa/report`);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ success: false, error: { code: "not_found" } });
  });

  it("draws the report's charts in Chromium under that CSP, fetching nothing elsewhere", async () => {
    const context = await chromium.launchPersistentContext(tempDir("llm-relay-chromium-"), {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(message.text());
      });
      page.on("pageerror", (error) => problems.push(error.message));
      page.on("request", (request) => requests.push(request.url()));
      await page.goto(`${fixture.proxy.url}/ui/bench/${run.id}/report`);
      await page.waitForSelector("body[data-charts=ready]", { timeout: 10_000 });
      expect(await page.locator("table#summary tbody tr").count()).toBe(2);
      expect(problems).toEqual([]);
      expect(requests.every((url) => url.startsWith(`${fixture.proxy.url}/`))).toBe(true);
    } finally {
      await context.close();
    }
  });
});
