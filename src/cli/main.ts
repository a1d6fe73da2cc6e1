#!/usr/bin/env node
/**
 * The `llm-relay` command line: `serve`, `ui`, `logs`, `models`, `formats`, `bench`, `keys` and `export`.
 * Each command's work is imported when it runs, so that one command does not
 * carry the others' modules (`serve` runs for days: the bench runner and the
 * PostgreSQL driver it does not use cost it about 10 MB of resident memory).
 */
import { Command } from "commander";
import { nonNegativeInt, positiveInt } from "./arg-parsers.js";
import { withCommonOptions } from "./common-options.js";
import { VERSION } from "../version.js";
import type { ServeFlags } from "./serve.js";
import type { LogsFlags } from "./logs.js";
import type { ModelsFlags } from "./models.js";
import type { FormatsFlags } from "./formats.js";
import type { UiFlags } from "./ui.js";
import { registerBench } from "./bench-command.js";
import { registerExport } from "./export.js";
import { registerKeys } from "./keys.js";

const program = new Command()
  // A flag after a subcommand belongs to that subcommand: `bench list --db FILE` (where `bench` has a
  // --db of its own too) reads FILE.
  .enablePositionalOptions()
  .name("llm-relay")
  .description(
    "A local OpenAI-compatible chat-completion proxy that records every exchange into an llm-compatible logs.db",
  )
  .version(VERSION);

withCommonOptions(
  program
    .command("serve")
    .description("serve the OpenAI-compatible API (default http://127.0.0.1:11435/v1)")
    .option("--host <host>", "address to bind (env LLM_RELAY_HOST; default 127.0.0.1)")
    .option("--port <port>", "port to bind (env LLM_RELAY_PORT; default 11435)", nonNegativeInt),
  "config",
  "db",
  "databaseUrl",
)
  .option("--no-record", "do not record exchanges (for measuring the proxy alone)")
  .option("--debug", "log each rendered prompt and raw backend payload, secrets removed (env LLM_RELAY_DEBUG=1)")
  .option(
    "--allow-unauthenticated",
    "serve a non-loopback --host although requests need no API key (env LLM_RELAY_ALLOW_UNAUTHENTICATED=1); without it, such a start is refused",
  )
  .option(
    "--max-json-depth <n>",
    "deepest JSON nesting accepted in a request body (env LLM_RELAY_MAX_JSON_DEPTH; default 64)",
    positiveInt,
  )
  .option(
    "--body-timeout-ms <ms>",
    "time a request body may take to arrive, then 408 (env LLM_RELAY_BODY_TIMEOUT_MS; default 30000)",
    positiveInt,
  )
  .option(
    "--max-body-mb-in-flight <mb>",
    "request-body MB held at once, then 503 server_busy (env LLM_RELAY_MAX_BODY_MB_IN_FLIGHT; default 64)",
    positiveInt,
  )
  .action(async (flags: ServeFlags) => (await import("./serve.js")).runServe(flags));

withCommonOptions(
  program
    .command("ui")
    .description(
      "browse the recorded conversations in a web page, without the proxy (default http://127.0.0.1:11436/ui/)",
    )
    .option("--host <host>", "address to bind (default 127.0.0.1; another needs LLM_RELAY_MASTER_KEY)")
    .option("--port <port>", "port to bind (default 11436)", nonNegativeInt),
  "config",
  "db",
  "databaseUrl",
).action(async (flags: UiFlags) => (await import("./ui.js")).runUi(flags));

withCommonOptions(
  program
    .command("logs")
    .description("show recent recorded exchanges (embeddings included), newest nearest the prompt")
    .option("-n, --count <n>", "number of exchanges to show (0 for all)", nonNegativeInt, 10)
    .option("--model <name>", "only exchanges of this model (as requested, or as resolved)")
    .option(
      "--status <status>",
      "only exchanges with this outcome (ok, error, cancelled, truncated, history) or HTTP status (429)",
    )
    .option("-q, --search <text>", "only responses whose prompt or answer contains every word (full-text search)")
    .option(
      "--since <time>",
      "only exchanges at or after this time: 2026-11-21, 2026-11-21T09:00, or an age (30m, 12h, 7d)",
    )
    .option("--until <time>", "only exchanges before this time (same forms as --since)")
    .option("--tenant <name>", "only exchanges made for this tenant (default: requests without API keys)")
    .option(
      "--protocol <name>",
      "only exchanges in this inbound protocol (chat, messages, responses, ollama, gemini, completions)",
    )
    .option("--conversation <id>", "only this conversation"),
  "json",
  "config",
  "db",
  "databaseUrl",
).action(async (flags: LogsFlags) => (await import("./logs.js")).runLogs(flags));

withCommonOptions(
  program
    .command("models")
    .description(
      "list the models the proxy routes (configured names, aliases, and the catalog models of active presets)",
    ),
  "config",
  "json",
).action(async (flags: ModelsFlags) => (await import("./models.js")).runModels(flags));

withCommonOptions(
  program
    .command("formats")
    .description(
      "list the prompt formats for raw-completion backends (name, stop sequences, description; with --json also the BOS/EOS texts and reference templates)",
    ),
  "json",
).action(async (flags: FormatsFlags) => (await import("./formats.js")).runFormats(flags));

registerBench(program);
registerExport(program);
registerKeys(program);

await program.parseAsync(process.argv);
