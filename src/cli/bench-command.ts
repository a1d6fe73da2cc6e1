/**
 * The definition of `llm-relay bench` (with `bench report` and `bench
 * list`): subcommands, flags and their parsing. The work is in bench.ts,
 * imported when one of them runs: the bench runner, the library client
 * and the report renderers stay out of every other command (`serve`
 * included, about 6 MB of resident memory).
 */
import type { Command } from "commander";
import type { SelectionFilters } from "../bench/types.js";
import { finiteNumber, integer, modelList, positiveInt } from "./arg-parsers.js";
import { withCommonOptions } from "./common-options.js";

/** The checks file read from the working directory when `--checks` is not given. */
export const DEFAULT_CHECKS_FILE = "bench.yaml";

/** Flags of `bench`: the selection (`--model`, `--since`, … `--seed`) and the run's own. */
export interface BenchFlags extends SelectionFilters {
  candidates?: string[];
  concurrency?: number;
  repeat?: number;
  maxTokens?: number;
  temperature?: number;
  checks?: string;
  judge?: string;
  dryRun?: boolean;
  resume?: string;
  config?: string;
  db?: string;
}

/** Flags of `bench list`. */
export interface BenchListFlags {
  json?: boolean;
  config?: string;
  db?: string;
}

/** Flags of `bench report`. */
export interface ReportFlags {
  html?: string;
  json?: boolean;
  config?: string;
  db?: string;
}

/** Adds `bench` (with `report` and `list`) to the program. */
export function registerBench(program: Command): void {
  const bench = program
    .command("bench")
    .description("replay recorded exchanges against other models and compare them with the original answers")
    .enablePositionalOptions()
    .option(
      "--candidates <models>",
      "models to replay against, comma-separated (the original answer is the reference)",
      modelList,
    )
    .option("--model <name>", "only responses of this model (as requested, or as resolved)")
    .option(
      "--since <time>",
      "only responses at or after this time: 2026-11-21, 2026-11-21T09:00, or an age (30m, 12h, 7d)",
    )
    .option("--until <time>", "only responses before this time (same forms as --since)")
    .option("--conversation <id>", "only this conversation")
    .option("--search <text>", "only responses whose prompt or answer contains every word (full-text search)")
    .option("--limit <n>", "only the N most recent matches", positiveInt)
    .option("--sample <n>", "N matches drawn at random (reproducible with --seed)", positiveInt)
    .option("--seed <s>", "seed of --sample (default: a random one, printed and stored)", integer)
    .option(
      "--concurrency <n>",
      "concurrent calls per candidate (default 2; with --resume, the run's own)",
      positiveInt,
    )
    .option("--repeat <k>", "replay each case K times per candidate (default 1)", positiveInt)
    .option(
      "--max-tokens <n>",
      "max_tokens of every call (default: as originally sent, else the candidate's context window minus the prompt when known, else none)",
      positiveInt,
    )
    .option("--temperature <t>", "temperature of every call (default: as originally sent)", finiteNumber)
    .option("--checks <file>", `format checks (default: ./${DEFAULT_CHECKS_FILE} when present)`)
    .option("--judge <model>", "grade every answer against the reference with this model (1-10, with a rationale)")
    .option("--dry-run", "print the plan and the estimated cost, call nothing")
    .option("--resume <run-id>", "continue an interrupted run (its selection and settings are reused)");
  withCommonOptions(bench, "config", "db").action(async (flags: BenchFlags) =>
    (await import("./bench.js")).benchCommand(flags),
  );

  withCommonOptions(
    bench
      .command("report <run-id>")
      .description("the report of a run: a table per candidate (or --json, or an --html page)")
      .option("--html <file>", "also write a self-contained HTML report"),
    "json",
    "config",
    "db",
  ).action(async (runId: string, flags: ReportFlags) => (await import("./bench.js")).benchReportCommand(runId, flags));

  withCommonOptions(bench.command("list").description("list bench runs, newest first"), "json", "config", "db").action(
    async (flags: BenchListFlags) => (await import("./bench.js")).benchListCommand(flags),
  );
}
