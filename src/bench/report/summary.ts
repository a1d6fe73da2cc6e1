/**
 * The report of a run (what `bench report --json` prints, and what the
 * terminal table and the HTML page are drawn from): per candidate, the
 * latency percentiles (ms), throughput, cost, error rate and mean scores;
 * per case, the reference and every candidate's answers.
 */
import { tokensPerSecond } from "../throughput.js";
import type { BenchCase, BenchResult, BenchRun, CheckResult, JudgeScore } from "../types.js";

/** p50 and p95 of a set of values (ms); null when there are none. */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
}

/** One candidate's row. */
export interface CandidateSummary {
  candidate: string;
  /** Results stored (answers and failures). */
  results: number;
  /** Failed calls. */
  errors: number;
  /** errors / results (0 when there are no results). */
  errorRate: number;
  /** Time to first token of the successful answers, ms. */
  ttftMs: Percentiles;
  /** Total time of the successful answers, ms. */
  totalMs: Percentiles;
  /** Median output tokens per second of generation of the successful answers that have a plausible figure (see `throughput.ts`); null when none has. */
  tokensPerSecond: number | null;
  /** Sum of the results' costs in USD; null when none has a price. */
  costUsd: number | null;
  /** True when some result had no price (the sum covers the others only). */
  costPartial: boolean;
  /**
   * True when the sum rests on estimated tokens: some result with a cost above $0 had its usage
   * estimated (the upstream reported none). A $0 price (local models) is exact whatever the tokens.
   */
  costEstimated: boolean;
  /** Mean edit similarity of the successful answers (0–1). */
  meanEditSimilarity: number | null;
  /** Mean token F1 of the successful answers (0–1). */
  meanTokenF1: number | null;
  /** Per check name: passed / results (failed calls count as not passed). */
  checkPassRates: Record<string, number>;
  /** Mean judge grade (1–10) of the graded answers; null without a judge. */
  judgeMean: number | null;
  /** Answers the judge graded. */
  judged: number;
}

/** One candidate answer in a case. */
export interface CaseAnswer {
  candidate: string;
  repeat: number;
  responseId: string | null;
  output: string;
  ttftMs: number | null;
  totalMs: number;
  tokensPerSecond: number | null;
  inputTokens: number;
  outputTokens: number;
  usageEstimated: boolean;
  costUsd: number | null;
  finishReason: string | null;
  error: string | null;
  editSimilarity: number | null;
  tokenF1: number | null;
  checks: CheckResult[];
  judge: JudgeScore | null;
}

/** One case with the reference and every answer. */
export interface CaseReport {
  caseId: string;
  /** The model originally asked. */
  model: string;
  datetimeUtc: string;
  /** What the request asked (its trailing user message). */
  prompt: string;
  /** Messages originally sent. */
  messageCount: number;
  reference: string;
  answers: CaseAnswer[];
}

/** The whole report. */
export interface BenchReport {
  run: {
    id: string;
    createdUtc: string;
    finishedUtc: string | null;
    status: string;
    candidates: string[];
    cases: number;
    /** cases × candidates × repeat. */
    tasks: number;
    /** Results stored. */
    results: number;
    settings: BenchRun["settings"];
    selection: BenchRun["selection"];
    /** Conversation ids the answers were recorded into, by candidate (and `judge`). */
    conversations: Record<string, string>;
  };
  /** The check names, in declaration order. */
  checks: string[];
  candidates: CandidateSummary[];
  cases: CaseReport[];
}

/** The q-quantile (0–1) of sorted values, by linear interpolation between closest ranks. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const value = sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
  return Math.round(value * 10) / 10;
}

function percentiles(values: readonly (number | null)[]): Percentiles {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10_000) / 10_000;
}

/** The summary row of one candidate's results. */
export function summarizeCandidate(
  candidate: string,
  results: readonly BenchResult[],
  checkNames: readonly string[],
): CandidateSummary {
  const ok = results.filter((r) => r.error === null);
  const priced = results.filter((r) => r.costUsd !== null);
  const judged = ok.map((r) => r.scores?.judge?.grade).filter((g): g is number => typeof g === "number");
  const checkPassRates: Record<string, number> = {};
  for (const name of checkNames) {
    const passed = ok.filter((r) => r.scores?.checks.find((c) => c.name === name)?.pass === true).length;
    checkPassRates[name] = results.length === 0 ? 0 : Math.round((passed / results.length) * 10_000) / 10_000;
  }
  const tps = ok
    .map(rateOf)
    .filter((v): v is number => v !== null)
    .sort((a, b) => a - b);
  return {
    candidate,
    results: results.length,
    errors: results.length - ok.length,
    errorRate: results.length === 0 ? 0 : Math.round(((results.length - ok.length) / results.length) * 10_000) / 10_000,
    ttftMs: percentiles(ok.map((r) => r.ttftMs)),
    totalMs: percentiles(ok.map((r) => r.totalMs)),
    tokensPerSecond: quantile(tps, 0.5),
    costUsd:
      priced.length === 0 ? null : Math.round(priced.reduce((sum, r) => sum + (r.costUsd ?? 0), 0) * 1e10) / 1e10,
    costPartial: priced.length > 0 && priced.length < results.length,
    costEstimated: priced.some(costRestsOnEstimate),
    meanEditSimilarity: mean(ok.map((r) => r.scores?.editSimilarity).filter((v): v is number => typeof v === "number")),
    meanTokenF1: mean(ok.map((r) => r.scores?.tokenF1).filter((v): v is number => typeof v === "number")),
    checkPassRates,
    judgeMean: judged.length === 0 ? null : mean(judged),
    judged: judged.length,
  };
}

/** The report of `run` from its stored results and its cases (cases no longer in the file are listed without a reference). */
export function buildReport(run: BenchRun, results: readonly BenchResult[], cases: readonly BenchCase[]): BenchReport {
  const checkNames = run.settings.checks.map((c) => c.name);
  const byId = new Map(cases.map((c) => [c.id, c]));
  return {
    run: {
      id: run.id,
      createdUtc: run.createdUtc,
      finishedUtc: run.finishedUtc,
      status: run.status,
      candidates: run.candidates,
      cases: run.caseIds.length,
      tasks: run.caseIds.length * run.candidates.length * run.settings.repeat,
      results: results.length,
      settings: run.settings,
      selection: run.selection,
      conversations: run.conversations,
    },
    checks: checkNames,
    candidates: run.candidates.map((candidate) =>
      summarizeCandidate(
        candidate,
        results.filter((r) => r.candidate === candidate),
        checkNames,
      ),
    ),
    cases: run.caseIds.map((caseId): CaseReport => {
      const benchCase = byId.get(caseId);
      const answers = results
        .filter((r) => r.caseId === caseId)
        .sort(
          (a, b) => run.candidates.indexOf(a.candidate) - run.candidates.indexOf(b.candidate) || a.repeat - b.repeat,
        )
        .map(toAnswer);
      return {
        caseId,
        model: benchCase?.model ?? "",
        datetimeUtc: benchCase?.datetimeUtc ?? "",
        prompt: benchCase?.prompt ?? "",
        messageCount: benchCase?.messages.length ?? 0,
        reference: benchCase?.reference ?? "",
        answers,
      };
    }),
  };
}

/** Whether a result's cost depends on estimated token counts: estimated usage at a price above $0. */
export function costRestsOnEstimate(r: Pick<BenchResult, "usageEstimated" | "costUsd">): boolean {
  return r.usageEstimated && r.costUsd !== null && r.costUsd > 0;
}

/** A result's tokens/s by today's rule (results stored by older versions may hold a figure it refuses). */
function rateOf(r: BenchResult): number | null {
  return tokensPerSecond(r.outputTokens, r.totalMs, r.ttftMs);
}

function toAnswer(r: BenchResult): CaseAnswer {
  return {
    candidate: r.candidate,
    repeat: r.repeat,
    responseId: r.responseId,
    output: r.outputText,
    ttftMs: r.ttftMs,
    totalMs: r.totalMs,
    tokensPerSecond: r.error === null ? rateOf(r) : null,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    usageEstimated: r.usageEstimated,
    costUsd: r.costUsd,
    finishReason: r.finishReason,
    error: r.error,
    editSimilarity: r.scores?.editSimilarity ?? null,
    tokenF1: r.scores?.tokenF1 ?? null,
    checks: r.scores?.checks ?? [],
    judge: r.scores?.judge ?? null,
  };
}
