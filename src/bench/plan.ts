/**
 * The plan of a run, before any call: the cases, the candidates and how
 * each routes (deployment, provider, upstream model), the number of calls,
 * and the estimated cost from the model catalog — each case's recorded
 * prompt tokens and the reference's completion tokens at the candidate's
 * catalog price (local providers cost 0; unknown prices are shown as
 * unknown). This is what `--dry-run` prints.
 */
import { oneLine, renderTable } from "../cli/text-table.js";
import { deploymentPrices, exchangeCostUsd } from "../catalog/cost.js";
import { formatUsd } from "../catalog/format-usd.js";
import { routableModels } from "../catalog/routable-models.js";
import type { RelayConfig } from "../config/load.js";
import { deploymentLabel, Router } from "../routing/router.js";
import { replayMaxTokens } from "./candidate-call.js";
import type { BenchCase, RunSettings, SkippedCase } from "./types.js";

/** How one candidate routes, and what its calls should cost. */
export interface CandidatePlan {
  candidate: string;
  /** The deployment (config key, `#n` for one of several), or null when the name routes nowhere. */
  deployment: string | null;
  /** Provider kind of the deployment, or null. */
  provider: string | null;
  /** The model name sent upstream, or null. */
  upstreamModel: string | null;
  /** Why the name routes nowhere, or null. */
  routeError: string | null;
  /** Context window in tokens (the deployment's `context_window`, else the catalog's), or null when unknown. */
  contextWindow: number | null;
  /** Calls (cases × repeat). */
  calls: number;
  /** Estimated prompt tokens of all calls. */
  inputTokens: number;
  /** Estimated completion tokens of all calls (the references' lengths). */
  outputTokens: number;
  /** Estimated USD of all calls; null when the catalog has no price for the model. */
  estimatedCostUsd: number | null;
}

/** The whole plan. */
export interface BenchPlan {
  cases: BenchCase[];
  skipped: SkippedCase[];
  candidates: CandidatePlan[];
  settings: RunSettings;
  /** Every call of the run (cases × candidates × repeat), judge calls excluded. */
  totalCalls: number;
}

/**
 * The plan of replaying `cases` against `candidates` with `settings`, routed by `config`. The
 * returned settings carry each candidate's context window (`contextWindows`), which sets the
 * default `max_tokens` of its replays (see `replayMaxTokens`).
 */
export function buildPlan(
  config: Pick<RelayConfig, "models" | "aliases" | "defaultModel" | "routing">,
  cases: BenchCase[],
  skipped: SkippedCase[],
  candidates: readonly string[],
  settings: RunSettings,
): BenchPlan {
  const router = new Router(config);
  const calls = cases.length * settings.repeat;
  const inputTokens = cases.reduce((sum, c) => sum + c.inputTokens, 0) * settings.repeat;
  const contextWindows: Record<string, number | null> = Object.fromEntries(
    candidates.map((candidate) => [candidate, contextWindowOf(router, candidate)]),
  );
  const planned: RunSettings = { ...settings, contextWindows };
  const plans = candidates.map((candidate): CandidatePlan => {
    // The references' lengths, as far as the replay's max_tokens lets a candidate go.
    const outputTokens =
      cases.reduce(
        (sum, c) => sum + Math.min(c.outputTokens, replayMaxTokens(c, candidate, planned) ?? Number.POSITIVE_INFINITY),
        0,
      ) * settings.repeat;
    const contextWindow = contextWindows[candidate] ?? null;
    try {
      const route = router.resolve(candidate);
      const deployment = deploymentLabel(route);
      const cost = exchangeCostUsd({
        provider: route.deployment.provider,
        deployment,
        upstreamModel: route.upstreamModel,
        prices: deploymentPrices(route.deployment),
        usage: { input: inputTokens, output: outputTokens },
      });
      return {
        candidate,
        deployment,
        provider: route.deployment.provider,
        upstreamModel: route.upstreamModel,
        routeError: null,
        contextWindow,
        calls,
        inputTokens,
        outputTokens,
        estimatedCostUsd: cost,
      };
    } catch (error) {
      return {
        candidate,
        deployment: null,
        provider: null,
        upstreamModel: null,
        routeError: (error as Error).message,
        contextWindow,
        calls,
        inputTokens,
        outputTokens,
        estimatedCostUsd: null,
      };
    }
  });
  return {
    cases,
    skipped,
    candidates: plans,
    settings: planned,
    totalCalls: cases.length * candidates.length * settings.repeat,
  };
}

/** A candidate's context window in tokens, as `llm-relay models` lists it (deployment, else catalog), or null. */
function contextWindowOf(router: Router, candidate: string): number | null {
  try {
    const route = router.resolve(candidate);
    const [model] = routableModels({
      listModels: () => [{ id: candidate, provider: route.deployment.provider }],
      resolve: (name) => router.resolve(name),
    });
    return model?.contextWindow ?? null;
  } catch {
    return null;
  }
}

/** The plan as text (what `--dry-run` prints). */
export function formatPlan(plan: BenchPlan): string {
  const lines: string[] = [];
  const s = plan.settings;
  lines.push(
    `${plan.cases.length} case(s) × ${plan.candidates.length} candidate(s) × ${s.repeat} repeat(s) = ${plan.totalCalls} call(s)`,
  );
  lines.push(
    `concurrency ${s.concurrency} per candidate; max_tokens ${s.maxTokens ?? "as originally sent, else the context window − the prompt, else none"}; temperature ${s.temperature ?? "as originally sent"}; ` +
      `judge ${s.judge ?? "none"}; checks ${s.checks.length ? s.checks.map((c) => c.name).join(", ") : "none"}`,
  );
  if (plan.skipped.length > 0) {
    lines.push(`skipped ${plan.skipped.length} response(s) that cannot be replayed:`);
    for (const skip of plan.skipped.slice(0, 10)) lines.push(`  ${skip.id}: ${skip.reason}`);
  }
  lines.push("");
  lines.push("cases:");
  for (const c of plan.cases) {
    lines.push(
      `  ${c.id}  ${c.datetimeUtc.slice(0, 19).replace("T", " ")}  ${c.model}  ${c.messages.length} msgs  ${c.inputTokens}+${c.outputTokens} tok  ${oneLine(c.prompt, 50)}`,
    );
  }
  lines.push("");
  const header = ["candidate", "route", "context", "calls", "tokens in/out", "estimated cost"];
  const rows = plan.candidates.map((c) => [
    c.candidate,
    c.routeError ? `no route: ${c.routeError}` : `${c.deployment} (${c.provider}, ${c.upstreamModel})`,
    c.contextWindow === null ? "unknown" : String(c.contextWindow),
    String(c.calls),
    `${c.inputTokens}/${c.outputTokens}`,
    c.estimatedCostUsd === null ? "unknown" : formatUsd(c.estimatedCostUsd),
  ]);
  lines.push(renderTable(header, rows).slice(0, -1));
  const known = plan.candidates.filter((c) => c.estimatedCostUsd !== null);
  const total = known.reduce((sum, c) => sum + (c.estimatedCostUsd ?? 0), 0);
  lines.push(
    `estimated total: ${formatUsd(total)}${known.length < plan.candidates.length ? " (+ candidates of unknown price)" : ""}${s.judge ? " (judge calls not included)" : ""}`,
  );
  return `${lines.join("\n")}\n`;
}
