/**
 * The bench's figures are honest (issue 17, item 11): `llm-relay bench`
 * run as a user runs it (the CLI in a fresh child process) against fake
 * candidates that stream their chunks with delays (real HTTP on
 * 127.0.0.1): every case's first text delta is received while the
 * candidate is still streaming — the first cases of the run included, next
 * to a candidate that reports no usage (whose token estimate, a first
 * gpt-tokenizer load on the event loop, once stalled the other calls so
 * that TTFT ≈ total); tokens/s is over the
 * generation time and refused (—) when it cannot be one; max_tokens is the
 * original's, else the candidate's window minus the prompt, else none; a
 * cost carries ~ only when it rests on estimated tokens; and the quality
 * chart plots against latency when every candidate costs the same.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { lookupModel } from "../../src/catalog/index.js";
import { renderHtmlReport } from "../../src/bench/report/html.js";
import { loadRun, runReport } from "../../src/bench/session.js";
import { BenchStore } from "../../src/bench/storage/bench-store.js";
import type { BenchCase, BenchResult, BenchRun } from "../../src/bench/types.js";
import { runCli } from "../helpers/cli.js";
import { fakeDeployment, tempDir } from "../helpers/proxy.js";
import { openReportContext } from "../helpers/report-page.js";
import { startFakeCandidate, type CandidateRequest, type FakeCandidate } from "./helpers/fake-candidate.js";
import { recordFixture, type RecordedFixture } from "./helpers/recorded-exchanges.js";

const ANSWER = "A fox runs through the quiet woods at dawn, looking for something to eat before the hunters wake.";
/** Streams with delays, reports no usage; priced through the groq preset (its estimated cost gets ~). */
const ESTIMATED = "groq/llama-3.1-8b-instant";
/** Streams with delays, reports usage; priced through the openai preset (an exact cost). */
const EXACT = "openai/gpt-4o-mini";
/** Streams with delays, reports usage; unpriced, its deployment declares a 4096-token context window. */
const SMALL = "small-window";
/** Sends its whole answer at once after a delay (as a buffering upstream does); unpriced, window unknown. */
const BUFFERED = "buffered";
/** A local (Ollama) deployment whose server is down: every call fails, recorded with estimated prompt tokens at $0. */
const LOCAL_DOWN = "local-down";

let fixture: RecordedFixture;
let fakes: Record<"estimated" | "exact" | "small" | "buffered", FakeCandidate>;
let store: BenchStore;
/** A loopback port nothing listens on. */
let closedPort: number;
/** The CLI's working directory, with its llm-relay.yaml. */
let cwd: string;

/**
 * The estimated candidate answers first, while the others are still streaming: had its record's
 * token estimate stalled the event loop, their chunks would pile up unread meanwhile.
 */
const quick = { firstChunkDelayMs: 20, chunkDelayMs: 60, chunkCount: 5, answer: () => ANSWER };
const streaming = { firstChunkDelayMs: 350, chunkDelayMs: 40, chunkCount: 6, answer: () => ANSWER };

/** The config file's `models:` (written to ./llm-relay.yaml in the CLI's working directory). */
function candidateModels() {
  return {
    "groq/*": fakeDeployment(fakes.estimated.baseUrl),
    "openai/*": fakeDeployment(fakes.exact.baseUrl),
    [SMALL]: fakeDeployment(fakes.small.baseUrl, { model: "small-upstream", context_window: 4096 }),
    [BUFFERED]: fakeDeployment(fakes.buffered.baseUrl, { model: "buffered-upstream" }),
    [LOCAL_DOWN]: {
      provider: "ollama",
      base_url: `http://127.0.0.1:${closedPort}`,
      model: "llama3",
      connect_timeout_ms: 1_000,
      timeout_ms: 2_000,
    },
  };
}

/** A new run of every recorded case against `candidates`, by the CLI in a child process (nothing warmed up), to the end. */
async function freshRun(candidates: string[]) {
  const result = await runCli(["bench", "--candidates", candidates.join(",")], { cwd, timeoutMs: 60_000 });
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  const runId = /^bench run (\w+):/m.exec(result.stdout)![1]!;
  const loaded = loadRun(store, runId)!;
  expect(loaded.run.status).toBe("done");
  return { run: loaded.run, cases: loaded.selection.cases, results: store.results(runId), stdout: result.stdout };
}

/** The request a fake received for `benchCase`. */
function requestFor(fake: FakeCandidate, benchCase: BenchCase): CandidateRequest {
  const seen = fake.requests.filter((r) => JSON.stringify(r.body.messages) === JSON.stringify(benchCase.messages));
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

/** The cells of a candidate's row in the terminal table, by column header. */
function terminalRow(text: string, candidate: string): Record<string, string> {
  const lines = text.split("\n");
  const header = lines.find((line) => line.startsWith("candidate"))!.split(/\s{2,}/);
  const row = lines.find((line) => line.startsWith(`${candidate} `))!.split(/\s{2,}/);
  return Object.fromEntries(header.map((name, i) => [name, row[i] ?? ""]));
}

beforeAll(async () => {
  const probe = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => probe.once("listening", resolve));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  fixture = await recordFixture();
  fakes = {
    estimated: await startFakeCandidate({ ...quick, usage: null }),
    exact: await startFakeCandidate({ ...streaming }),
    small: await startFakeCandidate({ ...streaming }),
    buffered: await startFakeCandidate({ firstChunkDelayMs: 60, chunkDelayMs: 0, chunkCount: 6, answer: () => ANSWER }),
  };
  store = BenchStore.open(fixture.proxy.dbPath);
  cwd = tempDir("llm-relay-bench-honest-");
  fs.writeFileSync(
    path.join(cwd, "llm-relay.yaml"),
    stringify({ db: fixture.proxy.dbPath, models: candidateModels() }),
  );
}, 60_000);

afterAll(async () => {
  store?.close();
  await Promise.all(Object.values(fakes ?? {}).map((fake) => fake.close()));
  await fixture?.close();
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});

describe("a run against candidates that stream with delays", () => {
  let run: BenchRun;
  let cases: BenchCase[];
  let results: BenchResult[];
  let stdout: string;

  beforeAll(async () => {
    ({ run, cases, results, stdout } = await freshRun([ESTIMATED, EXACT, SMALL]));
    expect(results).toHaveLength(cases.length * 3);
  }, 90_000);

  it("receives every case's first text while the candidate is still streaming, the first cases included", () => {
    const fakeOf: Record<string, FakeCandidate> = {
      [ESTIMATED]: fakes.estimated,
      [EXACT]: fakes.exact,
      [SMALL]: fakes.small,
    };
    for (const candidate of [ESTIMATED, EXACT, SMALL]) {
      // in the order the calls were made: the first ones are those a warm-up or a stall would hit
      const ordered = cases
        .map((c) => ({ c, request: requestFor(fakeOf[candidate]!, c) }))
        .sort((a, b) => a.request.receivedAt - b.request.receivedAt);
      for (const { c, request } of ordered) {
        const result = results.find((r) => r.caseId === c.id && r.candidate === candidate)!;
        expect(result.error).toBeNull();
        expect(result.ttftMs).not.toBeNull();
        expect(result.ttftMs!).toBeLessThan(result.totalMs);
        expect(request.contentWrittenAt).toHaveLength(
          candidate === ESTIMATED ? quick.chunkCount : streaming.chunkCount,
        );
        // The call began before its request arrived, so its first delta came at most ttftMs after the
        // arrival: before the candidate had even written its last chunk.
        expect(request.receivedAt + result.ttftMs!, `${candidate}, case ${c.id}`).toBeLessThan(
          request.contentWrittenAt.at(-1)!,
        );
        expect(result.tokensPerSecond).toBeCloseTo((result.outputTokens * 1000) / (result.totalMs - result.ttftMs!), 0);
      }
    }
  });

  it("sends max_tokens as originally sent, else the candidate's context window minus the prompt", () => {
    const windows = {
      [ESTIMATED]: lookupModel("groq", "llama-3.1-8b-instant")!.contextWindow,
      [EXACT]: lookupModel("openai", "gpt-4o-mini")!.contextWindow,
      [SMALL]: 4096,
    };
    expect(run.settings.contextWindows).toEqual(windows);
    const fakeOf = { [ESTIMATED]: fakes.estimated, [EXACT]: fakes.exact, [SMALL]: fakes.small };
    const original = cases.filter((c) => c.maxTokens !== null);
    expect(original.length).toBeGreaterThan(0);
    for (const candidate of [ESTIMATED, EXACT, SMALL] as const) {
      for (const c of cases) {
        const body = requestFor(fakeOf[candidate], c).body;
        expect(body.max_tokens, `${candidate}, case ${c.id}`).toBe(c.maxTokens ?? windows[candidate] - c.inputTokens);
      }
    }
    expect(
      requestFor(
        fakes.small,
        cases.find((c) => c.maxTokens === null)!,
      ).body.max_tokens,
    ).toBeLessThan(4096);
  });

  it("marks a cost with ~ only when it rests on estimated tokens", () => {
    for (const r of results) expect(r.usageEstimated).toBe(r.candidate === ESTIMATED);
    const table = stdout;
    expect(terminalRow(table, ESTIMATED).cost).toMatch(/^\$[0-9.]+~$/);
    expect(terminalRow(table, EXACT).cost).toMatch(/^\$[0-9.]+$/);
    expect(terminalRow(table, SMALL).cost).toBe("-");
    expect(terminalRow(table, EXACT)["tok/s"]).toMatch(/^\d+\.\d$/);
  });
});

describe("a run whose figures cannot all be told", () => {
  let run: BenchRun;
  let cases: BenchCase[];
  let results: BenchResult[];
  let stdout: string;

  beforeAll(async () => {
    ({ run, cases, results, stdout } = await freshRun(["echo", BUFFERED, LOCAL_DOWN]));
  }, 90_000);

  it("refuses the tokens/s of answers that came in one piece, and sends no max_tokens or temperature the original did not", () => {
    const buffered = results.filter((r) => r.candidate === BUFFERED);
    expect(buffered).toHaveLength(cases.length);
    for (const r of buffered) {
      expect(r.error).toBeNull();
      expect(r.outputTokens).toBeGreaterThan(1);
      expect(r.tokensPerSecond).toBeNull();
    }
    expect(terminalRow(stdout, BUFFERED)["tok/s"]).toBe("—");
    for (const c of cases) {
      const body = requestFor(fakes.buffered, c).body;
      expect(body.max_tokens).toBe(c.maxTokens ?? undefined);
      expect(body.temperature).toBe(c.temperature ?? undefined);
    }
  });

  it("shows a $0 cost without ~ even when it rests on estimated tokens (a $0 price is exact)", () => {
    const down = results.filter((r) => r.candidate === LOCAL_DOWN);
    expect(down).toHaveLength(cases.length);
    for (const r of down)
      expect([r.error !== null, r.usageEstimated, r.costUsd, r.inputTokens > 0]).toEqual([true, true, 0, true]);
    expect(terminalRow(stdout, LOCAL_DOWN).cost).toBe("$0");
    expect(terminalRow(stdout, "echo").cost).toBe("$0");
  });

  it("plots quality against latency when every candidate costs the same, and shows — for a refused tokens/s", async () => {
    const html = renderHtmlReport(runReport(store, run.id)!);
    const { url, context } = await openReportContext(html, "bench-report-same-cost.html");
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(error.message));
      await page.goto(url);
      await page.waitForSelector("body[data-charts=ready]", { timeout: 10_000 });
      const chart = await page.evaluate<{ x: string; title: string; points: number[][] }>(`(() => {
        const chart = Chart.getChart(document.getElementById("quality-chart"));
        return { x: chart.options.scales.x.title.text, title: chart.options.plugins.title.text, points: chart.data.datasets.map((d) => d.data.map((p) => p.x)) };
      })()`);
      expect(chart.x).toMatch(/^median total time .*\(ms\)$/);
      expect(chart.title).toMatch(/^quality versus latency/);
      const report = runReport(store, run.id)!;
      // one point per quality measure (edit similarity, token F1; no judge) at the median total time; a candidate without answers has none
      const answered = report.candidates.filter((c) => c.totalMs.p50 !== null);
      expect(answered.map((c) => c.candidate)).toEqual(["echo", BUFFERED]);
      expect(chart.points).toEqual(answered.map((c) => [c.totalMs.p50, c.totalMs.p50]));
      expect(await page.locator("h2", { hasText: "Quality versus latency" }).count()).toBe(1);
      const header = await page.locator("table#summary thead th").allTextContents();
      const bufferedRow = await page
        .locator("table#summary tbody tr", { hasText: BUFFERED })
        .locator("td")
        .allTextContents();
      expect(bufferedRow[header.indexOf("tok/s")]).toBe("—");
      const badges = await page
        .locator(`section.case .answer[data-candidate="${BUFFERED}"] .badge`, { hasText: "tok/s" })
        .allTextContents();
      expect(badges).toEqual(Array(cases.length).fill("— tok/s"));
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
