/**
 * `llm-relay export --to FILE.db [--since …]`: writes the records of the
 * PostgreSQL store (`database_url`) into a new llm-compatible SQLite file,
 * which `llm logs`, Datasette and `llm-relay logs --db FILE.db` read.
 */
import type { Command } from "commander";
import { withCommonOptions } from "./common-options.js";
import { ConfigError, loadConfig } from "../config/load.js";

/** Flags of `export`. */
export interface ExportFlags {
  /** The SQLite file to write. */
  to: string;
  /** Only exchanges at or after: an ISO date / date-time, or an age (`30m`, `12h`, `7d`, `2w`). */
  since?: string;
  /** PostgreSQL URL; else LLM_RELAY_DATABASE_URL, DATABASE_URL or the config's `database_url`. */
  databaseUrl?: string;
  /** Config file (for its `database_url`). */
  config?: string;
  /** Replace the file when it exists. */
  force?: boolean;
}

/** Registers `export` on the program. */
export function registerExport(program: Command): void {
  withCommonOptions(
    program
      .command("export")
      .description("write the records of the PostgreSQL store (database_url) into a new llm-compatible SQLite logs.db")
      .requiredOption(
        "--to <file>",
        "SQLite file to create (llm logs -d FILE, datasette FILE, llm-relay logs --db FILE)",
      )
      .option(
        "--since <time>",
        "only exchanges at or after this time: 2026-11-21, 2026-11-21T09:00, or an age (30m, 12h, 7d)",
      ),
    "databaseUrl",
    "config",
  )
    .option("--force", "replace the file if it exists")
    .action(runExport);
}

/** Runs the export; exits with 1 (a message on stderr) when it cannot. */
export async function runExport(flags: ExportFlags): Promise<void> {
  const fail = (message: string): never => {
    process.stderr.write(`llm-relay: ${message}\n`);
    process.exit(1);
  };
  // Loaded when the command runs, so that `serve` (whose command line registers this one) carries no bench code.
  const { parseTimeBound, SelectionError } = await import("../bench/selection.js");
  let url: string | undefined;
  let since: string | undefined;
  try {
    url = loadConfig({
      ...(flags.config ? { configPath: flags.config } : {}),
      ...(flags.databaseUrl ? { databaseUrl: flags.databaseUrl } : {}),
    }).databaseUrl;
    since = flags.since === undefined ? undefined : parseTimeBound(flags.since);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof SelectionError) fail(error.message);
    throw error;
  }
  if (!url)
    return fail(
      "export reads PostgreSQL: give --database-url, set DATABASE_URL or LLM_RELAY_DATABASE_URL, or database_url in the config",
    );
  // Loaded here, not with the command line: the other commands do not carry the PostgreSQL driver.
  const [{ exportToSqlite, ExportError }, { pgConnection }] = await Promise.all([
    import("../recording/postgres/pg-export.js"),
    import("../recording/postgres/pg-store.js"),
  ]);
  const sql = pgConnection(url, { max: 1 });
  try {
    const counts = await exportToSqlite(sql, flags.to, {
      ...(since !== undefined ? { since } : {}),
      ...(flags.force ? { overwrite: true } : {}),
    });
    const summary = Object.entries(counts)
      .map(([table, n]) => `${table} ${n}`)
      .join(", ");
    process.stdout.write(
      `exported ${counts.responses ?? 0} responses to ${flags.to}${summary ? ` (${summary})` : ""}\n`,
    );
  } catch (error) {
    await sql.end({ timeout: 1 });
    if (error instanceof ExportError) fail(error.message);
    fail(`export failed: ${(error as Error).message}`);
  }
  await sql.end({ timeout: 5 });
}
