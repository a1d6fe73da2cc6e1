/**
 * `llm-relay logs`: the most recent recorded responses, as a table or JSON,
 * with each response's cost in USD (`~` marks costs from estimated tokens).
 */
import { oneLine, renderTable } from "./text-table.js";
import { formatUsd } from "../catalog/format-usd.js";
import { ConfigError, loadConfig } from "../config/load.js";
import { readResponses } from "../recording/sqlite/log-query.js";
import type { LogRow } from "../recording/types.js";
import fs from "node:fs";

/** Flags of `logs`. */
export interface LogsFlags {
  count: number;
  json?: boolean;
  conversation?: string;
  config?: string;
  db?: string;
}

/** Prints recent responses; exits with 1 when the database does not exist. With `database_url` (and no `--db`), reads PostgreSQL. */
export async function runLogs(flags: LogsFlags): Promise<void> {
  let dbPath: string;
  let databaseUrl: string | null;
  try {
    const config = loadConfig({
      ...(flags.config ? { configPath: flags.config } : {}),
      ...(flags.db ? { db: flags.db } : {}),
    });
    dbPath = config.dbPath;
    databaseUrl = flags.db ? null : (config.databaseUrl ?? null);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`llm-relay: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const query = {
    limit: flags.count === 0 ? Number.MAX_SAFE_INTEGER : flags.count,
    ...(flags.conversation ? { conversationId: flags.conversation } : {}),
  };
  if (databaseUrl) {
    let rows: LogRow[];
    try {
      const { PgStore } = await import("../recording/postgres/pg-store.js"); // the driver only when it is used
      const store = await PgStore.open(databaseUrl);
      try {
        rows = await store.listResponses(query);
      } finally {
        await store.close();
      }
    } catch (error) {
      process.stderr.write(`llm-relay: cannot read PostgreSQL: ${(error as Error).message}\n`);
      process.exit(1);
    }
    process.stdout.write(flags.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows));
    return;
  }
  if (!fs.existsSync(dbPath)) {
    process.stderr.write(`llm-relay: no database at ${dbPath} (nothing recorded yet?)\n`);
    process.exit(1);
  }
  let rows: LogRow[];
  try {
    rows = readResponses(dbPath, query);
  } catch (error) {
    process.stderr.write(`llm-relay: cannot read ${dbPath}: ${(error as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(flags.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows));
}

/** One line per response, oldest at the top so the newest is nearest the prompt. */
export function formatTable(rows: readonly LogRow[]): string {
  const header = ["time (UTC)", "model", "tokens in/out", "cost", "ms", "status", "conversation", "prompt"];
  const lines = [...rows]
    .reverse()
    .map((row) => [
      row.datetimeUtc.slice(0, 19).replace("T", " "),
      row.model,
      `${row.inputTokens ?? "-"}/${row.outputTokens ?? "-"}${row.estimated ? "~" : ""}`,
      row.costUsd === null ? "-" : `${formatUsd(row.costUsd)}${row.estimated ? "~" : ""}`,
      String(row.durationMs ?? "-"),
      row.status ?? "history",
      row.conversationId ?? "-",
      oneLine(row.prompt ?? "", 40),
    ]);
  return renderTable(header, lines);
}
