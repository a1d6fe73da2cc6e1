#!/usr/bin/env node
/**
 * The `llm-relay` command line: `serve`, `logs`, `models`, `formats`, `bench`, `keys` and `export`.
 */
import { Command, InvalidArgumentError } from "commander";
import { VERSION } from "../version.js";
import { runServe } from "./serve.js";
import { runLogs } from "./logs.js";
import { runModels } from "./models.js";
import { runFormats } from "./formats.js";
import { registerBench } from "./bench.js";
import { registerExport } from "./export.js";
import { registerKeys } from "./keys.js";

function parseIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

const program = new Command()
  .name("llm-relay")
  .description("A local OpenAI-compatible chat-completion proxy that records every exchange into an llm-compatible logs.db")
  .version(VERSION);

program
  .command("serve")
  .description("serve the OpenAI-compatible API (default http://127.0.0.1:11435/v1)")
  .option("--host <host>", "address to bind (env LLM_RELAY_HOST; default 127.0.0.1)")
  .option("--port <port>", "port to bind (env LLM_RELAY_PORT; default 11435)", parseIntArg)
  .option("-c, --config <file>", "config file (env LLM_RELAY_CONFIG; default ./llm-relay.yaml when present)")
  .option("--db <path>", "SQLite logs.db to record into (env LLM_RELAY_DB; default <OS data dir>/llm-relay/logs.db)")
  .option("--no-record", "do not record exchanges (for measuring the proxy alone)")
  .option("--debug", "log each rendered prompt and raw backend payload, secrets removed (env LLM_RELAY_DEBUG=1)")
  .action(runServe);

program
  .command("logs")
  .description("show recent recorded responses")
  .option("-n, --count <n>", "number of responses to show (0 for all)", parseIntArg, 10)
  .option("--json", "print JSON instead of a table")
  .option("--conversation <id>", "only this conversation")
  .option("-c, --config <file>", "config file (to find its db)")
  .option("--db <path>", "SQLite logs.db to read (env LLM_RELAY_DB)")
  .action(runLogs);

program
  .command("models")
  .description("list the models the proxy routes (configured names, aliases, and the catalog models of active presets)")
  .option("-c, --config <file>", "config file (env LLM_RELAY_CONFIG; default ./llm-relay.yaml when present)")
  .option("--json", "print JSON instead of a table")
  .action(runModels);

program
  .command("formats")
  .description("list the prompt formats for raw-completion backends (name, stop sequences, description)")
  .option("--json", "print JSON (with BOS/EOS texts and reference templates) instead of a table")
  .action(runFormats);

registerBench(program);
registerExport(program);
registerKeys(program);

await program.parseAsync(process.argv);
