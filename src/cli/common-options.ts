/**
 * The flags several commands share, each defined once (its spelling and its
 * description), so that `serve`, `logs`, `keys`, `export`, `bench`, `models`
 * and `formats` describe them the same way in `--help`.
 */
import type { Command } from "commander";

/** The shared flags, by name: commander's flag spelling and the description `--help` shows. */
export const COMMON_OPTIONS = {
  config: {
    flags: "-c, --config <file>",
    description: "config file (env LLM_RELAY_CONFIG; default ./llm-relay.yaml when present)",
  },
  db: {
    flags: "--db <path>",
    description: "SQLite logs.db (env LLM_RELAY_DB; default: the config's db, else <OS data dir>/llm-relay/logs.db)",
  },
  databaseUrl: {
    flags: "--database-url <url>",
    description:
      "PostgreSQL database (postgres://…) instead of the SQLite logs.db (env LLM_RELAY_DATABASE_URL or DATABASE_URL; default: the config's database_url)",
  },
  json: { flags: "--json", description: "print JSON instead of a table" },
} as const;

/** The name of a shared flag. */
export type CommonOption = keyof typeof COMMON_OPTIONS;

/**
 * Adds the shared flags `names` to `command`, in that order.
 * @returns the command, for chaining
 */
export function withCommonOptions(command: Command, ...names: CommonOption[]): Command {
  for (const name of names) command.option(COMMON_OPTIONS[name].flags, COMMON_OPTIONS[name].description);
  return command;
}
