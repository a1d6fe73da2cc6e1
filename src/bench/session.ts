/**
 * The steps of a bench session the CLI (and tests) put together: plan a new
 * run from the selection, store it, reload a stored run to resume it, and
 * build a run's report.
 */
import type { RelayConfig } from "../config/load.js";
import { llmDatetime } from "../recording/llm-format.js";
import { newUlid } from "../recording/ulid.js";
import { buildPlan, type BenchPlan } from "./plan.js";
import { buildReport, type BenchReport } from "./report/summary.js";
import { loadCases, selectCases, type Selection } from "./selection.js";
import type { BenchStore } from "./storage/bench-store.js";
import type { BenchRun, RunSettings, SelectionFilters } from "./types.js";

/** The plan of a new run: the selected cases against `candidates`. */
export function planRun(
  store: BenchStore,
  config: Pick<RelayConfig, "models" | "aliases" | "defaultModel" | "routing">,
  filters: SelectionFilters,
  candidates: readonly string[],
  settings: RunSettings,
): BenchPlan {
  const selection = selectCases(store.db, filters);
  return buildPlan(config, selection.cases, selection.skipped, candidates, settings);
}

/** Stores a new run for `plan` (status `running`) and returns it. */
export function createRun(store: BenchStore, plan: BenchPlan, filters: SelectionFilters): BenchRun {
  const now = Date.now();
  const run: BenchRun = {
    id: newUlid(now),
    createdUtc: llmDatetime(now),
    finishedUtc: null,
    status: "running",
    candidates: plan.candidates.map((c) => c.candidate),
    caseIds: plan.cases.map((c) => c.id),
    selection: filters,
    settings: plan.settings,
    conversations: {},
  };
  store.createRun(run);
  return run;
}

/** A stored run and its cases, or null when there is no such run. */
export function loadRun(store: BenchStore, runId: string): { run: BenchRun; selection: Selection } | null {
  const run = store.getRun(runId);
  if (!run) return null;
  return { run, selection: loadCases(store.db, run.caseIds) };
}

/** The report of a stored run, or null when there is no such run. */
export function runReport(store: BenchStore, runId: string): BenchReport | null {
  const loaded = loadRun(store, runId);
  if (!loaded) return null;
  return buildReport(loaded.run, store.results(loaded.run.id), loaded.selection.cases);
}
