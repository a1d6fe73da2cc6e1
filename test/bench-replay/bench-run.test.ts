/**
 * `llm-relay bench` in-process, on ten exchanges recorded through the real
 * proxy: the selection, the replay of the originally sent messages against
 * two fake candidates with known latency and known answers, the stored
 * timings, scores, checks, costs and judge grades, the candidates' answers
 * recorded in their own conversations, and the JSON report.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lookupModel } from "../../src/catalog/index.js";
import { createClient, type LLMClient } from "../../src/index.js";
import { renderHtmlReport } from "../../src/bench/report/html.js";
import { runBench } from "../../src/bench/runner.js";
import { readChecksFile } from "../../src/bench/scores/checks.js";
import { selectCases } from "../../src/bench/selection.js";
import type { BenchReport, CandidateSummary } from "../../src/bench/report/summary.js";
import { createRun, planRun, runReport } from "../../src/bench/session.js";
import { BenchStore } from "../../src/bench/storage/bench-store.js";
import type { BenchResult, BenchRun, RunSettings, SelectionFilters } from "../../src/bench/types.js";
import { rows } from "../helpers/db.js";
import { openReportContext } from "../helpers/report-page.js";
import {
  benchConfig,
  FAST,
  FAST_PROFILE,
  JUDGE,
  SLOW,
  SLOW_PROFILE,
  SLOW_SUFFIX,
  slowAnswer,
  startCandidates,
  type Candidates,
} from "./helpers/bench-setup.js";
import { AIDER_ANSWER, recordFixture, type RecordedFixture } from "./helpers/recorded-exchanges.js";
import { lastUserText } from "./helpers/fake-candidate.js";

const CHECKS = readChecksFile(fileURLToPath(new URL("../fixtures/bench/bench.yaml", import.meta.url)));

let fixture: RecordedFixture;
let candidates: Candidates;
let store: BenchStore;
let client: LLMClient;
/** The full run (both candidates, checks, judge), made by the first test of "a full run". */
let fullRun: BenchRun;

function settings(extra: Partial<RunSettings> = {}): RunSettings {
  return { repeat: 1, concurrency: 2, maxTokens: null, temperature: null, judge: null, checks: [], ...extra };
}

async function benchRun(
  filters: SelectionFilters,
  candidateNames: string[],
  runSettings: RunSettings,
  signal?: AbortSignal,
) {
  const plan = planRun(store, benchConfig(fixture.proxy.dbPath, candidates), filters, candidateNames, runSettings);
  const run = createRun(store, plan, filters);
  const outcome = await runBench({ client, store, run, cases: plan.cases, ...(signal ? { signal } : {}) });
  return { run, plan, outcome, results: store.results(run.id) };
}

/** Words as an independent count: lower-case ASCII letters and digits. */
function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

beforeAll(async () => {
  fixture = await recordFixture();
  candidates = await startCandidates(fixture.exchanges);
  store = BenchStore.open(fixture.proxy.dbPath);
  client = createClient({ config: benchConfig(fixture.proxy.dbPath, candidates) });
}, 60_000);

afterAll(async () => {
  await client?.close();
  store?.close();
  await candidates?.close();
  await fixture?.close();
});

describe("selection", () => {
  it("selects every answered exchange, never a history row or the failed one", () => {
    const { cases, skipped } = selectCases(store.db, {});
    expect(cases.map((c) => c.id)).toEqual(fixture.answered.map((e) => e.id));
    expect(skipped).toEqual([]);
    // the aider request came mid-conversation: its earlier turns are 0-token history rows, not cases
    const history = rows<{ id: string }>(
      fixture.proxy.dbPath,
      "select id from responses where input_tokens = 0 and output_tokens = 0",
    );
    expect(history.length).toBeGreaterThan(0);
    const failed = fixture.exchanges.find((e) => e.answer === null)!;
    expect(cases.map((c) => c.id)).not.toContain(failed.id);
  });

  it("rebuilds each case from prompt_json: the messages as sent and the original answer as reference", () => {
    const { cases } = selectCases(store.db, {});
    for (const [i, c] of cases.entries()) {
      expect(c.messages).toEqual(fixture.answered[i]!.body.messages);
      expect(c.reference).toBe(fixture.answered[i]!.answer);
    }
    expect(cases[0]!.reference).toBe(AIDER_ANSWER);
    expect(cases[0]!.temperature).toBe(0);
  });

  it("filters by model, conversation, time, full-text search, limit and seeded sample", () => {
    const ids = (filters: SelectionFilters) => selectCases(store.db, filters).cases.map((c) => c.id);
    const answered = fixture.answered;
    expect(ids({ model: "other-model" })).toEqual(
      answered.filter((e) => e.body.model === "other-model").map((e) => e.id),
    );
    expect(ids({ model: "TestModelName" })).toEqual([answered[0]!.id]);

    const conversation = rows<{ conversation_id: string }>(
      fixture.proxy.dbPath,
      "select conversation_id from responses where id = ?",
      answered[1]!.id,
    )[0]!.conversation_id;
    expect(ids({ conversation })).toEqual(answered.slice(1, 4).map((e) => e.id));

    expect(ids({ search: "fibonacci sequence" })).toEqual([answered[0]!.id]);
    expect(ids({ search: "build green" })).toEqual(answered.slice(5).map((e) => e.id));
    expect(ids({ limit: 3 })).toEqual(answered.slice(-3).map((e) => e.id));

    const times = answered.map(
      (e) =>
        rows<{ t: string }>(fixture.proxy.dbPath, "select datetime_utc as t from responses where id = ?", e.id)[0]!.t,
    );
    expect(ids({ since: times[5]! })).toEqual(answered.slice(5).map((e) => e.id));
    expect(ids({ until: times[2]! })).toEqual(answered.slice(0, 2).map((e) => e.id));
    expect(ids({ since: "1h" })).toHaveLength(answered.length);
    expect(ids({ until: "2001-01-01" })).toEqual([]);

    const sample = ids({ sample: 4, seed: 7 });
    expect(sample).toHaveLength(4);
    expect(ids({ sample: 4, seed: 7 })).toEqual(sample);
    expect(sample.every((id) => answered.some((e) => e.id === id))).toBe(true);
    expect([...sample].sort()).toEqual(sample);
    expect(ids({ limit: 5, sample: 2, seed: 1 }).every((id) => answered.slice(-5).some((e) => e.id === id))).toBe(true);
  });
});

describe("a full run against two candidates, with checks and a judge", () => {
  let results: BenchResult[];
  let threadTips: Map<string, string | null>;

  beforeAll(async () => {
    threadTips = new Map(
      rows<{ id: string; tip: string | null }>(
        fixture.proxy.dbPath,
        "select id, tip_message_hash as tip from threads",
      ).map((r) => [r.id, r.tip]),
    );
    const done = await benchRun({}, [FAST, SLOW], settings({ checks: CHECKS, judge: JUDGE }));
    fullRun = store.getRun(done.run.id)!;
    results = done.results;
    expect(done.outcome).toEqual({ interrupted: false, completed: 18, remaining: 0 });
  }, 60_000);

  it("replays every case once per candidate with the messages and options originally sent", () => {
    expect(fullRun.status).toBe("done");
    const cases = selectCases(store.db, {}).cases;
    // max_tokens: as sent, else the candidate's window (the catalog's for the fast one; unknown for the slow one) minus the prompt
    const windows = {
      "llama-3.1-8b-instant": lookupModel("groq", "llama-3.1-8b-instant")!.contextWindow,
      "slow-upstream": null,
    };
    expect(fullRun.settings.contextWindows).toEqual({ [FAST]: windows["llama-3.1-8b-instant"], [SLOW]: null });
    for (const [fake, upstreamModel] of [
      [candidates.fast, "llama-3.1-8b-instant"],
      [candidates.slow, "slow-upstream"],
    ] as const) {
      expect(fake.requests).toHaveLength(fixture.answered.length);
      for (const exchange of fixture.answered) {
        const seen = fake.requests.filter(
          (r) => JSON.stringify(r.body.messages) === JSON.stringify(exchange.body.messages),
        );
        expect(seen, lastUserText(exchange.body)).toHaveLength(1);
        const body = seen[0]!.body;
        expect(body.model).toBe(upstreamModel);
        expect(body.stream).toBe(true);
        expect(body.temperature).toBe(exchange.body.temperature);
        const window = windows[upstreamModel];
        const inputTokens = cases.find((c) => c.id === exchange.id)!.inputTokens;
        expect(body.max_tokens).toBe(exchange.body.max_tokens ?? (window === null ? undefined : window - inputTokens));
        if (exchange.body.seed !== undefined) expect(body.seed).toBe(exchange.body.seed);
      }
    }
    // concurrency 2 per candidate: the slow one had two calls in flight, never more
    expect(candidates.slow.maxInFlight()).toBe(2);
  });

  it("stores the timings within tolerance of the injected delays", () => {
    for (const [candidate, profile] of [
      [FAST, FAST_PROFILE],
      [SLOW, SLOW_PROFILE],
    ] as const) {
      const mine = results.filter((r) => r.candidate === candidate);
      expect(mine).toHaveLength(fixture.answered.length);
      const expectedTotal = profile.firstChunkDelayMs + profile.chunkCount * profile.chunkDelayMs;
      for (const r of mine) {
        expect(r.error).toBeNull();
        expect(r.ttftMs).toBeGreaterThanOrEqual(profile.firstChunkDelayMs - 2);
        expect(r.ttftMs).toBeLessThan(profile.firstChunkDelayMs + 1000);
        expect(r.totalMs).toBeGreaterThanOrEqual(expectedTotal - 2);
        expect(r.totalMs).toBeLessThan(expectedTotal + 1500);
        expect(r.totalMs).toBeGreaterThan(r.ttftMs!);
        expect(r.tokensPerSecond).toBeCloseTo((r.outputTokens * 1000) / (r.totalMs - r.ttftMs!), 0);
      }
    }
  });

  it("stores tokens as the candidates reported them, and the cost the recorder priced from the catalog", () => {
    const price = lookupModel("groq", "llama-3.1-8b-instant")!;
    for (const r of results) {
      expect(r.usageEstimated).toBe(false);
      if (r.candidate === FAST) {
        expect([r.inputTokens, r.outputTokens]).toEqual([40, 12]);
        expect(r.costUsd).toBeCloseTo((40 * price.inputUsdPerMTok + 12 * price.outputUsdPerMTok) / 1e6, 12);
      } else {
        expect([r.inputTokens, r.outputTokens]).toEqual([50, 20]);
        expect(r.costUsd).toBeNull(); // an unpriced openai-compatible deployment
      }
    }
  });

  it("scores the known answers: similarity and checks", () => {
    for (const exchange of fixture.answered) {
      const reference = exchange.answer!;
      const fast = results.find((r) => r.caseId === exchange.id && r.candidate === FAST)!;
      const slow = results.find((r) => r.caseId === exchange.id && r.candidate === SLOW)!;
      expect(fast.outputText).toBe(reference);
      expect(fast.scores).toMatchObject({ editSimilarity: 1, tokenF1: 1 });
      expect(slow.outputText).toBe(slowAnswer(reference));
      if (reference === AIDER_ANSWER) {
        const removed = reference.indexOf("\n") + 1;
        expect(slow.scores!.editSimilarity).toBeCloseTo(1 - removed / reference.length, 4);
      } else {
        expect(slow.scores!.editSimilarity).toBeCloseTo(
          1 - SLOW_SUFFIX.length / (reference.length + SLOW_SUFFIX.length),
          4,
        );
        const n = words(reference).length;
        const precision = n / (n + words(SLOW_SUFFIX).length);
        expect(slow.scores!.tokenF1).toBeCloseTo((2 * precision) / (precision + 1), 4);
      }
      const verdicts = (r: BenchResult) => Object.fromEntries(r.scores!.checks.map((c) => [c.name, c.pass]));
      const isAider = reference === AIDER_ANSWER;
      expect(verdicts(fast)).toEqual({
        "aider-format": isAider,
        "contains capital": reference.includes("capital"),
        "regex /^Note \\d+/": reference.startsWith("Note "),
        "is-json": reference.startsWith("{"),
        "latency ≤ 450 ms": fast.totalMs <= 450,
      });
      expect(verdicts(slow)).toEqual({
        "aider-format": false,
        "contains capital": reference.includes("capital"),
        "regex /^Note \\d+/": reference.startsWith("Note "),
        "is-json": false,
        "latency ≤ 450 ms": false,
      });
    }
    const aiderSlow = results.find((r) => r.caseId === fixture.answered[0]!.id && r.candidate === SLOW)!;
    expect(aiderSlow.scores!.checks[0]!.detail).toMatch(/not preceded by a file name line/);
  });

  it("records the judge's grade and rationale for every answer", () => {
    expect(candidates.judge.requests).toHaveLength(results.length);
    for (const request of candidates.judge.requests) {
      expect(request.body.model).toBe("judge-upstream");
      expect((request.body.messages as { role: string; content: string }[])[0]!.content).toMatch(
        /^You are an impartial judge/,
      );
    }
    for (const r of results) {
      const judge = r.scores!.judge!;
      expect(judge.model).toBe(JUDGE);
      expect(judge.grade).toBe(r.candidate === FAST ? 9 : 3);
      expect(judge.rationale).toBe(
        r.candidate === FAST ? "Identical to the reference." : "Differs from the reference.",
      );
      expect(judge.responseId).toEqual(expect.any(String));
    }
  });

  it("records the answers as ordinary responses in the run's own conversations, leaving the user's threads as they were", () => {
    const named = rows<{ id: string; name: string; model: string }>(
      fixture.proxy.dbPath,
      "select id, name, model from conversations where name like ?",
      `bench ${fullRun.id} %`,
    );
    expect(named.map((c) => c.name).sort()).toEqual(
      [`bench ${fullRun.id} ${FAST}`, `bench ${fullRun.id} ${SLOW}`, `bench ${fullRun.id} judge`].sort(),
    );
    expect(fullRun.conversations).toEqual(
      Object.fromEntries(named.map((c) => [c.name.slice(`bench ${fullRun.id} `.length), c.id])),
    );
    for (const r of results) {
      const row = rows<{ conversation_id: string; response: string; thread_id: string; status: string }>(
        fixture.proxy.dbPath,
        "select r.conversation_id, r.response, t.thread_id, x.status from responses r join turns t on t.id = r.id join llm_relay_exchanges x on x.response_id = r.id where r.id = ?",
        r.responseId,
      )[0]!;
      expect(row).toEqual({
        conversation_id: fullRun.conversations[r.candidate],
        response: r.outputText,
        thread_id: fullRun.conversations[r.candidate],
        status: "ok",
      });
      expect(r.conversationId).toBe(fullRun.conversations[r.candidate]);
    }
    // nothing else: no conversation or history rows left behind by the replays, the user's thread tips unchanged
    const conversations = rows<{ n: number }>(fixture.proxy.dbPath, "select count(*) as n from conversations")[0]!.n;
    expect(conversations).toBe(threadTips.size + 3);
    for (const [id, tip] of threadTips) {
      expect(
        rows<{ tip: string | null }>(
          fixture.proxy.dbPath,
          "select tip_message_hash as tip from threads where id = ?",
          id,
        )[0]!.tip,
      ).toBe(tip);
    }
    // and a new selection leaves the bench's answers out
    expect(selectCases(store.db, {}).cases.map((c) => c.id)).toEqual(fixture.answered.map((e) => e.id));
  });

  it("gives a JSON report with one summary per candidate and every case side by side", () => {
    const report = JSON.parse(JSON.stringify(runReport(store, fullRun.id))) as BenchReport;
    expect(Object.keys(report)).toEqual(["run", "checks", "candidates", "cases"]);
    expect(report.run).toMatchObject({
      id: fullRun.id,
      status: "done",
      candidates: [FAST, SLOW],
      cases: 9,
      tasks: 18,
      results: 18,
    });
    expect(report.checks).toEqual(CHECKS.map((c) => c.name));
    expect(report.candidates).toHaveLength(2);
    const [fast, slow] = report.candidates as [CandidateSummary, CandidateSummary];
    for (const summary of [fast, slow]) {
      expect(Object.keys(summary).sort()).toEqual(
        [
          "candidate",
          "results",
          "errors",
          "errorRate",
          "ttftMs",
          "totalMs",
          "tokensPerSecond",
          "costUsd",
          "costPartial",
          "costEstimated",
          "meanEditSimilarity",
          "meanTokenF1",
          "checkPassRates",
          "judgeMean",
          "judged",
        ].sort(),
      );
      expect(summary).toMatchObject({ results: 9, errors: 0, errorRate: 0, judged: 9 });
      expect(summary.ttftMs.p50).toBeLessThanOrEqual(summary.ttftMs.p95!);
      expect(summary.totalMs.p50).toBeLessThanOrEqual(summary.totalMs.p95!);
    }
    expect(fast.ttftMs.p95).toBeLessThan(slow.ttftMs.p50!);
    expect(fast.meanEditSimilarity).toBe(1);
    expect(slow.meanEditSimilarity).toBeLessThan(1);
    expect(fast.judgeMean).toBe(9);
    expect(slow.judgeMean).toBe(3);
    expect(fast.checkPassRates).toMatchObject({
      "aider-format": Number((1 / 9).toFixed(4)),
      "contains capital": Number((3 / 9).toFixed(4)),
      "is-json": Number((1 / 9).toFixed(4)),
    });
    expect(slow.checkPassRates).toMatchObject({
      "aider-format": 0,
      "is-json": 0,
      "latency ≤ 450 ms": 0,
      "regex /^Note \\d+/": Number((4 / 9).toFixed(4)),
    });
    expect(fast.costUsd).toBeGreaterThan(0);
    expect(slow.costUsd).toBeNull();
    expect(report.cases).toHaveLength(9);
    const aider = report.cases[0]!;
    expect(aider).toMatchObject({
      caseId: fixture.answered[0]!.id,
      model: "TestModelName",
      reference: AIDER_ANSWER,
      messageCount: 12,
    });
    expect(aider.prompt).toMatch(/^create src\/main\.py/);
    expect(aider.answers.map((a) => a.candidate)).toEqual([FAST, SLOW]);
    expect(Object.keys(aider.answers[0]!).sort()).toEqual(
      [
        "candidate",
        "repeat",
        "responseId",
        "output",
        "ttftMs",
        "totalMs",
        "tokensPerSecond",
        "inputTokens",
        "outputTokens",
        "usageEstimated",
        "costUsd",
        "finishReason",
        "error",
        "editSimilarity",
        "tokenF1",
        "checks",
        "judge",
      ].sort(),
    );
  });
});

describe("interruption and resume", () => {
  it("keeps the finished results when stopped, and --resume completes only the missing ones", async () => {
    const fastBefore = candidates.fast.requests.length;
    const slowBefore = candidates.slow.requests.length;
    const controller = new AbortController();
    const filters: SelectionFilters = { model: "recorded-model" };
    const plan = planRun(
      store,
      benchConfig(fixture.proxy.dbPath, candidates),
      filters,
      [FAST, SLOW],
      settings({ concurrency: 1 }),
    );
    expect(plan.cases).toHaveLength(7);
    const run = createRun(store, plan, filters);
    let stored = 0;
    const first = await runBench({
      client,
      store,
      run,
      cases: plan.cases,
      signal: controller.signal,
      progress: {
        start() {},
        stop() {},
        update: () => (++stored === 4 ? controller.abort(new Error("stop")) : undefined),
      },
    });
    expect(first.interrupted).toBe(true);
    expect(store.getRun(run.id)!.status).toBe("interrupted");
    const kept = store.results(run.id);
    expect(kept.length).toBe(first.completed);
    expect(kept.length).toBeGreaterThanOrEqual(4);
    expect(kept.length).toBeLessThan(14);
    expect(first.remaining).toBe(14 - kept.length);
    const firstSession = candidates.fast.requests.length - fastBefore + (candidates.slow.requests.length - slowBefore);

    const second = await runBench({ client, store, run: store.getRun(run.id)!, cases: plan.cases });
    expect(second).toEqual({ interrupted: false, completed: 14 - kept.length, remaining: 0 });
    const secondSession =
      candidates.fast.requests.length - fastBefore + (candidates.slow.requests.length - slowBefore) - firstSession;
    expect(secondSession).toBe(14 - kept.length);
    const all = store.results(run.id);
    expect(all).toHaveLength(14);
    expect(new Set(all.map((r) => `${r.caseId} ${r.candidate}`)).size).toBe(14);
    // the results kept from the first session are untouched
    for (const r of kept) expect(all.find((a) => a.caseId === r.caseId && a.candidate === r.candidate)).toEqual(r);
    expect(store.getRun(run.id)!.status).toBe("done");
  }, 30_000);
});

describe("failures and repeats", () => {
  it("stores a failed call as an error result, once per repeat", async () => {
    const { run, results, outcome } = await benchRun(
      { model: "other-model" },
      ["no-such-model"],
      settings({ repeat: 2 }),
    );
    expect(outcome.interrupted).toBe(false);
    expect(results.map((r) => [r.repeat, r.error !== null, r.scores])).toEqual([
      [0, true, null],
      [1, true, null],
    ]);
    expect(results[0]!.error).toMatch(/^HTTP 404 model_not_found/);
    const report = runReport(store, run.id)!;
    expect(report.candidates[0]).toMatchObject({
      results: 2,
      errors: 2,
      errorRate: 1,
      meanEditSimilarity: null,
      ttftMs: { p50: null, p95: null },
    });
  });
});

describe("the HTML report", () => {
  it("opens in headless Chromium with the table, rendered charts and the cases side by side, without console errors", async () => {
    const html = renderHtmlReport(runReport(store, fullRun.id)!);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    const { url, context, resultsDir } = await openReportContext(html, "bench-report.html");
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(message.text());
      });
      page.on("pageerror", (error) => problems.push(error.message));
      page.on("request", (request) => requests.push(request.url()));
      await page.goto(url);
      await page.waitForSelector("body[data-charts=ready]", { timeout: 10_000 });

      const table = page.locator("table#summary");
      await expect.poll(() => table.isVisible()).toBe(true);
      expect(await table.locator("tbody tr").count()).toBe(2);
      expect(await table.locator("tbody tr").first().locator("td").first().textContent()).toBe(FAST);
      expect(await table.locator("thead th").allTextContents()).toEqual(
        expect.arrayContaining(["TTFT p50", "total p95", "aider-format", "judge"]),
      );

      // evaluated in the page (this project's TypeScript has no DOM types)
      const painted = await page.evaluate<
        { id: string; filled: number; visible: boolean }[]
      >(`[...document.querySelectorAll("canvas")].map((canvas) => {
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let filled = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) filled++;
        return { id: canvas.id || canvas.dataset.candidate, filled, visible: canvas.getBoundingClientRect().height > 0 };
      })`);
      expect(painted.map((c) => c.id)).toEqual([FAST, SLOW, "quality-chart"]);
      // the candidates' costs differ (one priced, one not): quality against cost
      expect(
        await page.evaluate(`Chart.getChart(document.getElementById("quality-chart")).options.scales.x.title.text`),
      ).toMatch(/^total cost/);
      for (const canvas of painted) {
        expect(canvas.visible).toBe(true);
        expect(canvas.filled, `${canvas.id} has drawn pixels`).toBeGreaterThan(1000);
      }

      const firstCase = page.locator("section.case").first();
      await firstCase.scrollIntoViewIfNeeded();
      expect(await firstCase.isVisible()).toBe(true);
      expect(await firstCase.locator(".answer.reference pre").textContent()).toBe(AIDER_ANSWER);
      expect(await firstCase.locator(`.answer[data-candidate="${FAST}"] pre`).textContent()).toBe(AIDER_ANSWER);
      expect(await firstCase.locator(`.answer[data-candidate="${SLOW}"] pre`).textContent()).toBe(
        slowAnswer(AIDER_ANSWER),
      );
      expect(
        await firstCase.locator(`.answer[data-candidate="${SLOW}"] .checks li.fail`).first().textContent(),
      ).toMatch(/aider-format/);
      expect(await page.locator("section.case").count()).toBe(9);

      await page.evaluate("window.scrollTo(0, 0)");
      await page.screenshot({ path: path.join(resultsDir, "bench-report.png"), fullPage: true });
      expect(problems).toEqual([]);
      expect(requests.every((url) => url.startsWith("file:"))).toBe(true);
    } finally {
      await context.close();
    }
  }, 60_000);
});
