/**
 * `llm-relay logs`: the most recent recorded exchanges (llm's `responses`
 * and the embedding exchanges of `llm_relay_embeddings`), as a table or
 * JSON, with each one's cost in USD (`~` marks costs from estimated tokens),
 * filtered by model, outcome or HTTP status, full-text search, time,
 * tenant, inbound protocol or conversation; from the SQLite logs.db or from
 * PostgreSQL (`--database-url`, or `database_url` in the config).
 */
import { oneLine, renderTable } from "./text-table.js";
import { formatUsd } from "../catalog/format-usd.js";
import { ConfigError, loadConfig } from "../config/load.js";
import { INBOUND_PROTOCOLS } from "../protocol/inbound.js";
import { readResponses } from "../recording/sqlite/log-query.js";
import type { LogQuery, LogRow } from "../recording/types.js";
import fs from "node:fs";

/** Flags of `logs`. */
export interface LogsFlags {
  count: number;
  json?: boolean;
  conversation?: string;
  /** Requested or resolved model name. */
  model?: string;
  /** An outcome (ok, error, cancelled, truncated, history) or an HTTP status (`429`). */
  status?: string;
  /** `-q/--search`: words that must all occur in the prompt or the answer. */
  search?: string;
  /** An ISO date or date-time, or an age (`30m`, `12h`, `7d`, `2w`), as `bench --since` takes. */
  since?: string;
  /** Same forms as `since`. */
  until?: string;
  tenant?: string;
  /** An inbound protocol: chat, messages, responses, ollama, gemini, completions. */
  protocol?: string;
  config?: string;
  db?: string;
  databaseUrl?: string;
}

/** The outcomes `--status` takes by name (`llm_relay_exchanges.status`, and `history` for history rows). */
export const STATUS_NAMES = ["ok", "error", "cancelled", "truncated", "history"] as const;

/** A bad filter flag: its message is printed as is. */
class FilterError extends Error {}

/**
 * The query of `flags`.
 * @param now the time ages (`--since 7d`) count back from, ms since the epoch
 * @throws FilterError, or bench/selection.ts's SelectionError for a bad time or search text
 */
export async function logQueryOf(flags: LogsFlags, now: number = Date.now()): Promise<LogQuery> {
  // The same parsers as `bench --since/--until/--search` (loaded here: other commands do not carry them).
  const { parseTimeBound, ftsQuery } = await import("../bench/selection.js");
  const query: LogQuery = { limit: flags.count === 0 ? Number.MAX_SAFE_INTEGER : flags.count };
  if (flags.conversation !== undefined) query.conversationId = flags.conversation;
  if (flags.model !== undefined) query.model = flags.model;
  if (flags.status !== undefined) Object.assign(query, statusFilter(flags.status));
  if (flags.search !== undefined) query.search = { text: flags.search, fts5: ftsQuery(flags.search) };
  if (flags.since !== undefined) query.since = parseTimeBound(flags.since, now);
  if (flags.until !== undefined) query.until = parseTimeBound(flags.until, now);
  if (flags.tenant !== undefined) query.tenant = flags.tenant;
  if (flags.protocol !== undefined) {
    if (!(INBOUND_PROTOCOLS as readonly string[]).includes(flags.protocol))
      throw new FilterError(`--protocol must be one of ${INBOUND_PROTOCOLS.join(", ")}; got '${flags.protocol}'`);
    query.protocol = flags.protocol;
  }
  return query;
}

/** `--status`: an outcome name, or an HTTP status code (100–599). */
function statusFilter(value: string): Pick<LogQuery, "status" | "httpStatus"> {
  const name = value.trim().toLowerCase();
  if ((STATUS_NAMES as readonly string[]).includes(name)) return { status: name };
  if (/^[1-5]\d\d$/.test(name)) return { httpStatus: Number(name) };
  throw new FilterError(
    `--status must be one of ${STATUS_NAMES.join(", ")} or an HTTP status (e.g. 429); got '${value}'`,
  );
}

/** Prints the selected exchanges; exits with 1 (a message on stderr) for a bad flag or when the database cannot be read. */
export async function runLogs(flags: LogsFlags): Promise<void> {
  const fail = (message: string): never => {
    process.stderr.write(`llm-relay: ${message}\n`);
    process.exit(1);
  };
  let dbPath: string;
  let databaseUrl: string | null;
  try {
    const config = loadConfig({
      ...(flags.config ? { configPath: flags.config } : {}),
      ...(flags.db ? { db: flags.db } : {}),
      ...(flags.databaseUrl ? { databaseUrl: flags.databaseUrl } : {}),
    });
    dbPath = config.dbPath;
    // An explicit --db reads that file, whatever database_url the environment or config names.
    databaseUrl = flags.db && !flags.databaseUrl ? null : (config.databaseUrl ?? null);
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message);
    throw error;
  }
  let query: LogQuery;
  try {
    query = await logQueryOf(flags);
  } catch (error) {
    const { SelectionError } = await import("../bench/selection.js");
    if (error instanceof FilterError || error instanceof SelectionError) return fail(error.message);
    throw error;
  }
  let rows: LogRow[];
  if (databaseUrl) {
    try {
      const { PgStore } = await import("../recording/postgres/pg-store.js"); // the driver only when it is used
      const store = await PgStore.open(databaseUrl);
      try {
        rows = await store.listResponses(query);
      } finally {
        await store.close();
      }
    } catch (error) {
      return fail(`cannot read PostgreSQL: ${(error as Error).message}`);
    }
  } else {
    if (!fs.existsSync(dbPath)) return fail(`no database at ${dbPath} (nothing recorded yet?)`);
    try {
      rows = readResponses(dbPath, query);
    } catch (error) {
      return fail(`cannot read ${dbPath}: ${(error as Error).message}`);
    }
  }
  process.stdout.write(flags.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows));
}

/** One line per exchange, oldest at the top so the newest is nearest the prompt; embeddings say so in the prompt column. */
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
      statusText(row),
      row.conversationId ?? "-",
      row.kind === "embedding" ? embeddingText(row) : oneLine(row.prompt ?? "", 40),
    ]);
  return renderTable(header, lines);
}

/** The status column: the outcome, with the HTTP status when it is not 200; `history` for history rows. */
function statusText(row: LogRow): string {
  if (row.status === null) return "history";
  return row.httpStatus !== null && row.httpStatus !== 200 ? `${row.status} ${row.httpStatus}` : row.status;
}

/** The prompt column of an embedding exchange: `[embeddings] 3 inputs → 1536 dims`. */
function embeddingText(row: LogRow): string {
  const inputs = row.inputCount === null ? "" : ` ${row.inputCount} input${row.inputCount === 1 ? "" : "s"}`;
  const dims = row.dimensions === null ? "" : ` → ${row.dimensions} dims`;
  return `[embeddings]${inputs}${dims}`;
}
