/**
 * Which failures of a record store are the store's condition (a full disk,
 * an I/O error, a lock, a lost connection: worth keeping the records and
 * trying again later) and which are a record's own content (a constraint,
 * a value the store cannot take: the record is given up).
 */
import { isLockContention } from "./sqlite/connection.js";

/** SQLite result codes (primary, as better-sqlite3 reports them: `SQLITE_IOERR_WRITE` starts with `SQLITE_IOERR`) that a later attempt may get past. */
const SQLITE_TRANSIENT = [
  "SQLITE_FULL",
  "SQLITE_IOERR",
  "SQLITE_CANTOPEN",
  "SQLITE_NOMEM",
  "SQLITE_READONLY",
  "SQLITE_PROTOCOL",
  "SQLITE_NOLFS",
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
];

/**
 * SQLSTATE classes and codes of PostgreSQL that are the server's condition: 08 (connection exception),
 * 53 (insufficient resources: disk full, out of memory, too many connections), 57P0x (shutdown,
 * crash, cannot connect now), 58 (system error, I/O), and a serialization failure or deadlock
 * the store's own retries did not get past.
 */
const PG_TRANSIENT_PREFIXES = ["08", "53", "57P0", "58", "40001", "40P01"];

/** Connection failures of the `postgres` driver and of Node's sockets and files. */
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOSPC",
  "EIO",
]);

/**
 * True when `error` (thrown by a store's `writeBatch`/`writeEmbeddings`) is the store's condition,
 * not the records': a full disk (`SQLITE_FULL`, SQLSTATE 53100, `ENOSPC`), an I/O error
 * (`SQLITE_IOERR*`, class 58), lock contention (`SQLITE_BUSY*`, `SQLITE_LOCKED`), a lost or refused
 * connection (driver and socket codes, SQLSTATE class 08, 57P0x). The batch is then kept and
 * retried as it is. Anything else (a constraint, SQLSTATE 23xxx, a data error, a value that cannot
 * be serialised) is the content's: the records are tried one by one and the bad ones given up.
 */
export function isTransientStoreError(error: unknown): boolean {
  if (isLockContention(error)) return true;
  if (error instanceof AggregateError) return error.errors.some(isTransientStoreError);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  if (code.startsWith("SQLITE_"))
    return SQLITE_TRANSIENT.some((prefix) => code === prefix || code.startsWith(`${prefix}_`));
  if (CONNECTION_CODES.has(code)) return true;
  return /^[0-9A-Z]{5}$/.test(code) && PG_TRANSIENT_PREFIXES.some((prefix) => code.startsWith(prefix));
}

/** The text of an error for logs and `/health`: `CODE: message`. */
export function storeErrorText(error: unknown): string {
  return error instanceof Error
    ? `${(error as { code?: string }).code ?? error.name}: ${error.message}`
    : String(error);
}
