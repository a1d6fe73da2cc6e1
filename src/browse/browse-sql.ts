/**
 * The SQL of the conversation browser's queries ({@link BrowseStore}), one text for both stores, as
 * `recording/log-query-sql.ts` does: parameters are `?` (PostgreSQL's are numbered by
 * `numberedPlaceholders`), and only full-text search differs — SQLite's FTS5 `responses_fts` with
 * each word quoted as an FTS5 string (https://sqlite.org/fts5.html#fts5_strings), PostgreSQL's
 * `to_tsvector('simple', …)` (the expression of its GIN index) with `plainto_tsquery`.
 *
 * Every list is a keyset page over an index: conversations by `last_response_id` (or
 * `(<filter>, last_response_id)`), exchanges by `responses.id` (or `llm_relay_exchanges
 * (<filter>, response_id)` when an exchange column is filtered: the order is then that column's).
 */
import type { LogDialect } from "../recording/log-query-sql.js";
import { BrowseInputError } from "./errors.js";
import type { BrowseFilter, BrowseStatus, UsageGroup } from "./types.js";

export type { LogDialect as BrowseDialect } from "../recording/log-query-sql.js";

/** A statement and its parameters, in order. */
export interface BrowseStatement {
  text: string;
  params: (string | number)[];
}

/** The statuses a filter may name. */
const STATUSES: readonly BrowseStatus[] = ["ok", "error", "cancelled", "truncated", "history"];

/**
 * An FTS5 query matching rows that hold every word of `search`: each whitespace-separated word
 * quoted as an FTS5 string (`"` doubled), so no user input is FTS5 syntax; words without a letter or
 * digit are dropped (they hold no token). Null when no word remains.
 */
export function fts5Query(search: string): string | null {
  const words = search
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w))
    .map((w) => `"${w.replaceAll('"', '""')}"`);
  return words.length > 0 ? words.join(" ") : null;
}

/**
 * `value` (an ISO 8601 date or date-time, UTC unless it says otherwise) as llm's `datetime_utc`
 * text without its offset: `2026-12-05T21:13:23.123000`, or `2026-12-05T21:13:23` on a whole second
 * (a prefix of the stored `2026-12-05T21:13:23+00:00`, so `>=` keeps and `<` drops that row). Either
 * compares as time with the stored values.
 * @throws BrowseInputError when it is not a date
 */
export function datetimeBound(value: string, name: string): string {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? `${value}T00:00:00Z`
    : /[zZ]|[+-]\d{2}:?\d{2}$/.test(value)
      ? value
      : `${value}Z`;
  const ms = Date.parse(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms))
    throw new BrowseInputError(`${name} is not a date: ${value}`);
  const text = new Date(ms).toISOString();
  return ms % 1000 === 0 ? text.slice(0, 19) : `${text.slice(0, 23)}000`;
}

/** Crockford's base32 alphabet of ULIDs (https://github.com/ulid/spec), lowercase as our ids are. */
const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";
/** How far an id's time may lie from its row's `datetime_utc` (history rows: 1 ms before; margin for other writers). */
const ID_TIME_MARGIN_MS = 60_000;

/** The smallest lowercase ULID of the ms `timeMs` (its 10 time characters, then zeros). */
export function ulidFloor(timeMs: number): string {
  let t = Math.max(0, Math.floor(timeMs));
  let time = "";
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  return `${time}${"0".repeat(16)}`;
}

/** ms of a normalised bound (llm's format, UTC). */
const boundMs = (bound: string): number => Date.parse(`${bound.length > 19 ? bound.slice(0, 23) : bound}Z`);

/** A filter checked: status known, dates normalised, search reduced to its words (absent when empty). */
export interface CheckedFilter extends Omit<BrowseFilter, "search"> {
  /** The FTS5 query (SQLite) and the plain text (PostgreSQL) of a non-empty search. */
  search?: { fts5: string; text: string };
}

/**
 * Checks and normalises `filter`.
 * @throws BrowseInputError on an unknown status or a bad date
 */
export function checkFilter(filter: BrowseFilter): CheckedFilter {
  const out: CheckedFilter = {};
  for (const key of ["model", "provider", "protocol", "tenant", "keyId"] as const) {
    const v = filter[key];
    if (v !== undefined && v !== "") out[key] = v;
  }
  if (filter.status !== undefined) {
    if (!STATUSES.includes(filter.status)) throw new BrowseInputError(`unknown status: ${String(filter.status)}`);
    out.status = filter.status;
  }
  if (filter.since !== undefined && filter.since !== "") out.since = datetimeBound(filter.since, "since");
  if (filter.until !== undefined && filter.until !== "") out.until = datetimeBound(filter.until, "until");
  if (filter.search !== undefined) {
    const fts5 = fts5Query(filter.search);
    if (fts5 !== null) out.search = { fts5, text: filter.search.trim() };
  }
  return out;
}

/** The condition "response `r` matches the search", for `dialect`. */
function searchCondition(dialect: LogDialect, search: { fts5: string; text: string }): BrowseStatement {
  return dialect === "sqlite"
    ? { text: "r.rowid IN (SELECT rowid FROM responses_fts WHERE responses_fts MATCH ?)", params: [search.fts5] }
    : {
        text: `to_tsvector('simple', coalesce(r.prompt, '') || ' ' || coalesce(r.response, '')) @@ plainto_tsquery('simple', ?)`,
        params: [search.text],
      };
}

/**
 * How many matches PostgreSQL's search first asks its GIN index for ({@link pgProbe}): a word with
 * fewer matches (after the cursor) is answered from them, sorted in memory; a word with more walks
 * `responses` newest first, where a page's worth of matches lies within a few thousand rows.
 */
export const SEARCH_PROBE = 1001;

/**
 * The CTEs `m` (the ids and conversations of at most `probe` matches of the search, below `before`
 * when given: no order, so the planner takes the GIN index's bitmap for a rare word and stops a
 * sequential scan early for a common one) and `mc` (how many `m` holds). A statement built on them
 * reads `m` when `(SELECT c FROM mc) < probe` (every match is in `m`) and walks the table otherwise;
 * each branch is gated by a one-time filter, so only one runs. Without the probe the planner, which
 * estimates a word missing from its statistics at 0.5 % of the rows, walks `responses_pkey`
 * backward computing `to_tsvector` for every row when the word is rare (10.9 s on 1M rows).
 */
function pgProbe(s: BrowseStatement, before: string | null, probe: number): BrowseStatement {
  return {
    text: `m AS MATERIALIZED (SELECT r.id, r.conversation_id FROM responses r WHERE ${s.text}${
      before !== null ? " AND r.id < ?" : ""
    } LIMIT ?), mc AS (SELECT count(*) AS c FROM m)`,
    params: [...s.params, ...(before !== null ? [before] : []), probe],
  };
}

/**
 * The time range of `filter` on `timeCol` (llm's text, compared as time), plus the same range, widened
 * by {@link ID_TIME_MARGIN_MS}, on the ULID column `idCol`: the range an index on the ids can seek.
 */
function addTimeBounds(
  where: string[],
  params: (string | number)[],
  timeCol: string,
  idCol: string,
  filter: CheckedFilter,
): void {
  if (filter.since !== undefined) {
    where.push(`${timeCol} >= ?`, `${idCol} >= ?`);
    params.push(filter.since, ulidFloor(boundMs(filter.since) - ID_TIME_MARGIN_MS));
  }
  if (filter.until !== undefined) {
    where.push(`${timeCol} < ?`, `${idCol} < ?`);
    params.push(filter.until, ulidFloor(boundMs(filter.until) + ID_TIME_MARGIN_MS));
  }
}

/** The columns of a {@link ConversationRow}. */
const CONVERSATION_SELECT = `SELECT s.conversation_id AS id, c.name, s.model, s.protocol, s.client, s.provider,
  s.tenant_id, s.key_id, s.turns, s.input_tokens, s.output_tokens, s.cost_usd, s.last_status, s.first_utc,
  s.last_utc, s.last_response_id
FROM llm_relay_conversation_stats s LEFT JOIN conversations c ON c.id = s.conversation_id`;

/** A row of the conversations statements. */
export interface ConversationRow {
  id: string;
  name: string | null;
  model: string | null;
  protocol: string | null;
  client: string | null;
  provider: string | null;
  tenant_id: string | null;
  key_id: string | null;
  turns: number | string;
  input_tokens: number | string;
  output_tokens: number | string;
  cost_usd: number | null;
  last_status: string;
  first_utc: string | null;
  last_utc: string | null;
  last_response_id: string;
}

/** The WHERE conditions of the Conversations page for `filter` (on `s`). */
function conversationWhere(filter: CheckedFilter, dialect: LogDialect): BrowseStatement {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const eq = (col: string, v: string | undefined) => {
    if (v === undefined) return;
    where.push(`s.${col} = ?`);
    params.push(v);
  };
  eq("model", filter.model);
  eq("last_status", filter.status);
  eq("provider", filter.provider);
  eq("protocol", filter.protocol);
  eq("tenant_id", filter.tenant);
  eq("key_id", filter.keyId);
  addTimeBounds(where, params, "s.last_utc", "s.last_response_id", filter);
  if (filter.search) {
    const s = searchCondition(dialect, filter.search);
    where.push(`s.conversation_id IN (SELECT r.conversation_id FROM responses r WHERE ${s.text})`);
    params.push(...s.params);
  }
  return { text: where.join(" AND "), params };
}

const whereClause = (conds: string[]): string => {
  const kept = conds.filter((c) => c !== "");
  return kept.length > 0 ? `WHERE ${kept.join(" AND ")}` : "";
};

/** One page of conversations, newest last activity first: `limit` rows after the one whose `last_response_id` is `after`. */
export function conversationsStatement(
  filter: CheckedFilter,
  dialect: LogDialect,
  after: string | null,
  limit: number,
): BrowseStatement {
  const w = conversationWhere(filter, dialect);
  const conds = [w.text];
  const params = [...w.params];
  if (after !== null) {
    conds.push("s.last_response_id < ?");
    params.push(after);
  }
  return {
    text: `${CONVERSATION_SELECT} ${whereClause(conds)} ORDER BY s.last_response_id DESC LIMIT ?`,
    params: [...params, limit],
  };
}

/** How many conversations match `filter`, counting at most `cap + 1`. */
export function conversationsCountStatement(filter: CheckedFilter, dialect: LogDialect, cap: number): BrowseStatement {
  const w = conversationWhere(filter, dialect);
  return {
    text: `SELECT count(*) AS n FROM (SELECT 1 FROM llm_relay_conversation_stats s ${whereClause([w.text])} LIMIT ?) AS q`,
    params: [...w.params, cap + 1],
  };
}

/**
 * The matches of a search, newest first, `limit` of them below `before` (a key of this statement's
 * `k`: the FTS5 rowid on SQLite, `responses.id` on PostgreSQL), with their conversation. SQLite walks
 * the FTS5 index in rowid order and stops at the limit, however common the words; PostgreSQL asks
 * its GIN index for `probe` matches first ({@link pgProbe}); with `probe` 0 it walks the table.
 */
export function searchMatchesStatement(
  search: { fts5: string; text: string },
  dialect: LogDialect,
  before: string | null,
  limit: number,
  probe: number = SEARCH_PROBE,
): BrowseStatement {
  if (dialect === "sqlite")
    return {
      text: `SELECT r.conversation_id AS cid, f.rowid AS k FROM responses_fts f JOIN responses r ON r.rowid = f.rowid
        WHERE responses_fts MATCH ?${before !== null ? " AND f.rowid < ?" : ""} ORDER BY f.rowid DESC LIMIT ?`,
      params: [search.fts5, ...(before !== null ? [Number(before)] : []), limit],
    };
  const s = searchCondition(dialect, search);
  const m = pgProbe(s, before, probe);
  const below = before !== null ? " AND r.id < ?" : "";
  return {
    text: `WITH ${m.text} SELECT cid, k, walked FROM (
      (SELECT m.conversation_id AS cid, m.id AS k, false AS walked FROM m WHERE (SELECT c FROM mc) < ?
        ORDER BY m.id DESC LIMIT ?)
      UNION ALL
      (SELECT r.conversation_id AS cid, r.id AS k, true AS walked FROM responses r
        WHERE (SELECT c FROM mc) >= ? AND ${s.text}${below} ORDER BY r.id DESC LIMIT ?)) AS u ORDER BY k DESC`,
    params: [...m.params, probe, limit, probe, ...s.params, ...(before !== null ? [before] : []), limit],
  };
}

/** A row of {@link searchMatchesStatement}. */
export interface SearchMatchRow {
  cid: string | null;
  k: string | number;
  /** PostgreSQL: true when the probe was full and the table was walked (absent on SQLite). */
  walked?: boolean;
}

/** Whether conversation `?` has a match of the search with a key at or above `?` (it was listed, or filtered out, on an earlier page). */
export function matchAboveStatement(
  search: { fts5: string; text: string },
  dialect: LogDialect,
  conversationId: string,
  key: string,
): BrowseStatement {
  if (dialect === "sqlite")
    return {
      text: `SELECT 1 AS hit FROM responses r WHERE r.conversation_id = ? AND r.rowid >= ?
        AND EXISTS (SELECT 1 FROM responses_fts f WHERE responses_fts MATCH ? AND f.rowid = r.rowid) LIMIT 1`,
      params: [conversationId, Number(key), search.fts5],
    };
  const s = searchCondition(dialect, search);
  return {
    text: `SELECT 1 AS hit FROM responses r WHERE r.conversation_id = ? AND r.id >= ? AND ${s.text} LIMIT 1`,
    params: [conversationId, key, ...s.params],
  };
}

/** The summary rows of conversations `ids` that pass `filter`'s other conditions (its search is not applied). */
export function conversationsByIdsStatement(
  filter: CheckedFilter,
  dialect: LogDialect,
  ids: readonly string[],
): BrowseStatement {
  const w = conversationWhere({ ...filter, search: undefined }, dialect);
  return {
    text: `${CONVERSATION_SELECT} ${whereClause([`s.conversation_id IN (${ids.map(() => "?").join(", ")})`, w.text])}`,
    params: [...ids, ...w.params],
  };
}

/**
 * How many conversations the newest `matchCap` matches of a search belong to (those passing the other
 * filters), at most `cap + 1`, and how many matches were read (`m`: fewer than `matchCap` means all).
 */
export function searchConversationsCountStatement(
  filter: CheckedFilter,
  dialect: LogDialect,
  matchCap: number,
  cap: number,
): BrowseStatement {
  const matches =
    dialect === "sqlite"
      ? {
          text: `SELECT r.conversation_id AS cid FROM responses_fts f JOIN responses r ON r.rowid = f.rowid
          WHERE responses_fts MATCH ? ORDER BY f.rowid DESC LIMIT ?`,
          params: [filter.search!.fts5, matchCap],
        }
      : (() => {
          const s = searchCondition(dialect, filter.search!);
          return {
            text: `SELECT r.conversation_id AS cid FROM responses r WHERE ${s.text} LIMIT ?`,
            params: [...s.params, matchCap],
          };
        })();
  const w = conversationWhere({ ...filter, search: undefined }, dialect);
  return {
    text: `WITH m AS (${matches.text})
      SELECT (SELECT count(*) FROM (SELECT 1 FROM llm_relay_conversation_stats s
          ${whereClause(["s.conversation_id IN (SELECT cid FROM m)", w.text])} LIMIT ?) AS q) AS n,
        (SELECT count(*) FROM m) AS m`,
    params: [...matches.params, ...w.params, cap + 1],
  };
}

/** One conversation's summary row. */
export const CONVERSATION_BY_ID = `${CONVERSATION_SELECT} WHERE s.conversation_id = ?`;

/** The columns of an {@link ExchangeRow}: `responses` ⟕ `llm_relay_exchanges`. */
const EXCHANGE_COLUMNS = `r.id, r.conversation_id, r.datetime_utc, r.model, r.resolved_model, e.response_id AS exchange_id,
  e.provider, e.deployment, e.protocol, e.client, e.status, e.http_status, e.error, e.finish_reason, e.stream,
  r.input_tokens, r.output_tokens, r.token_details, e.usage_estimated, e.cost_usd, r.duration_ms, e.ttft_ms,
  e.overhead_ms, e.attempts, e.tenant_id, e.key_id, substr(r.prompt, 1, 200) AS prompt_preview`;

/** A row of the exchanges statements. */
export interface ExchangeRow {
  id: string;
  conversation_id: string | null;
  datetime_utc: string | null;
  model: string | null;
  resolved_model: string | null;
  exchange_id: string | null;
  provider: string | null;
  deployment: string | null;
  protocol: string | null;
  client: string | null;
  status: string | null;
  http_status: number | null;
  error: string | null;
  finish_reason: string | null;
  stream: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  token_details: string | null;
  usage_estimated: number | null;
  cost_usd: number | null;
  duration_ms: number | null;
  ttft_ms: number | null;
  overhead_ms: number | null;
  attempts: number | null;
  tenant_id: string | null;
  key_id: string | null;
  prompt_preview: string | null;
}

/** A row of {@link exchangesStatement}: with the key the page is ordered by. */
export interface ExchangeListRow extends ExchangeRow {
  sort_key: string | number;
}

/** A detail row: an {@link ExchangeRow} with the raw JSON and texts of its `responses` row. */
export interface ExchangeDetailRow extends ExchangeRow {
  prompt_json: string | null;
  response_json: string | null;
  response: string | null;
  reasoning: string | null;
}

/** Which exchanges a phase of the errors-first order holds. */
export type ErrorPhase = "errors" | "others" | null;

/** The WHERE conditions of the Exchanges page for `filter`, and whether one is on an `llm_relay_exchanges` column. */
function exchangeWhere(
  filter: CheckedFilter,
  dialect: LogDialect,
  phase: ErrorPhase,
): BrowseStatement & { onExchange: boolean } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  let onExchange = false;
  const eq = (col: string, v: string | undefined) => {
    if (v === undefined) return;
    where.push(`e.${col} = ?`);
    params.push(v);
    onExchange = true;
  };
  if (filter.status === "history") where.push("e.response_id IS NULL");
  else eq("status", filter.status);
  if (phase === "errors" && filter.status === undefined) {
    where.push("e.status = 'error'");
    onExchange = true;
  }
  if (phase === "others") where.push("(e.status IS NULL OR e.status <> 'error')");
  eq("provider", filter.provider);
  eq("protocol", filter.protocol);
  eq("tenant_id", filter.tenant);
  eq("key_id", filter.keyId);
  if (filter.model !== undefined) {
    where.push("r.model = ?");
    params.push(filter.model);
  }
  addTimeBounds(where, params, "r.datetime_utc", "r.id", filter);
  if (filter.search) {
    const s = searchCondition(dialect, filter.search);
    where.push(s.text);
    params.push(...s.params);
  }
  return { text: where.join(" AND "), params, onExchange };
}

/**
 * One page of exchanges newest first (in one phase of the errors-first order, when `phase` is set):
 * `limit` rows whose sort key (`sort_key` of each row) is below `after`. The key is `responses.id`,
 * or `llm_relay_exchanges.response_id` when an exchange column is filtered (that index gives the
 * order), or — a search on SQLite — the `responses_fts` rowid, which FTS5 walks in order without
 * sorting the matches.
 */
export function exchangesStatement(
  filter: CheckedFilter,
  dialect: LogDialect,
  phase: ErrorPhase,
  after: string | null,
  limit: number,
  probe: number = SEARCH_PROBE,
): BrowseStatement {
  if (dialect === "postgres" && filter.search !== undefined)
    return pgSearchExchangesStatement(filter, phase, after, limit, probe);
  const ftsOrder = dialect === "sqlite" && filter.search !== undefined;
  const w = exchangeWhere(ftsOrder ? { ...filter, search: undefined } : filter, dialect, phase);
  const key = ftsOrder ? "f.rowid" : w.onExchange ? "e.response_id" : "r.id";
  const conds: string[] = [];
  const params: (string | number)[] = [];
  if (ftsOrder) {
    conds.push("responses_fts MATCH ?");
    params.push(filter.search!.fts5);
  }
  conds.push(w.text);
  params.push(...w.params);
  if (after !== null) {
    if (ftsOrder && !/^\d+$/.test(after)) throw new BrowseInputError("malformed cursor");
    conds.push(`${key} < ?`);
    params.push(ftsOrder ? Number(after) : after);
  }
  const join = w.onExchange ? "JOIN" : "LEFT JOIN";
  const from = ftsOrder ? "responses_fts f JOIN responses r ON r.rowid = f.rowid" : "responses r";
  return {
    text: `SELECT ${EXCHANGE_COLUMNS}, ${key} AS sort_key FROM ${from} ${join} llm_relay_exchanges e ON e.response_id = r.id
      ${whereClause(conds)} ORDER BY ${key} DESC LIMIT ?`,
    params: [...params, limit],
  };
}

/**
 * The two branches of a PostgreSQL search over exchanges ({@link pgProbe}): the matches in `m` joined
 * to their rows, gated on `m` holding every match, and the walk of `responses` newest first, gated on
 * the opposite; each with `filter`'s other conditions and `extra` (a key bound).
 */
function pgSearchBranches(
  filter: CheckedFilter,
  phase: ErrorPhase,
  extra: BrowseStatement | null,
  probe: number,
): { fromM: BrowseStatement; walk: BrowseStatement; key: string } {
  const w = exchangeWhere({ ...filter, search: undefined }, "postgres", phase);
  const s = searchCondition("postgres", filter.search!);
  const key = w.onExchange ? "e.response_id" : "r.id";
  const join = `${w.onExchange ? "JOIN" : "LEFT JOIN"} llm_relay_exchanges e ON e.response_id = r.id`;
  const rest = [w.text, ...(extra ? [extra.text.replaceAll("$key", key)] : [])];
  const restParams = [...w.params, ...(extra ? extra.params : [])];
  return {
    key,
    fromM: {
      // `OFFSET 0` keeps the lookup per match: joined flat, the planner (which takes `m` for `probe`
      // rows) may walk `responses_pkey` backward and look each row up in `m`.
      text: `FROM m CROSS JOIN LATERAL (SELECT * FROM responses r0 WHERE r0.id = m.id OFFSET 0) AS r ${join}
        ${whereClause(["(SELECT c FROM mc) < ?", ...rest])}`,
      params: [probe, ...restParams],
    },
    walk: {
      text: `FROM responses r ${join} ${whereClause(["(SELECT c FROM mc) >= ?", ...rest, s.text])}`,
      params: [probe, ...restParams, ...s.params],
    },
  };
}

/** {@link exchangesStatement} for a search on PostgreSQL: the GIN index's matches first ({@link pgProbe}). */
function pgSearchExchangesStatement(
  filter: CheckedFilter,
  phase: ErrorPhase,
  after: string | null,
  limit: number,
  probe: number,
): BrowseStatement {
  const s = searchCondition("postgres", filter.search!);
  const m = pgProbe(s, after, probe);
  const b = pgSearchBranches(filter, phase, after !== null ? { text: "$key < ?", params: [after] } : null, probe);
  const select = `SELECT ${EXCHANGE_COLUMNS}, ${b.key} AS sort_key`;
  return {
    text: `WITH ${m.text} SELECT * FROM (
      (${select} ${b.fromM.text} ORDER BY ${b.key} DESC LIMIT ?)
      UNION ALL
      (${select} ${b.walk.text} ORDER BY ${b.key} DESC LIMIT ?)) AS u ORDER BY sort_key DESC`,
    params: [...m.params, ...b.fromM.params, limit, ...b.walk.params, limit],
  };
}

/** How many exchanges match `filter`, counting at most `cap + 1`. */
export function exchangesCountStatement(
  filter: CheckedFilter,
  dialect: LogDialect,
  cap: number,
  probe: number = SEARCH_PROBE,
): BrowseStatement {
  if (dialect === "postgres" && filter.search !== undefined) {
    // The GIN index's matches when they are all of them; else the bounded walk. With no other
    // condition, the probe (when it reads past the cap) is the count: no walk for a common word.
    const m = pgProbe(searchCondition(dialect, filter.search), null, probe);
    if (probe > cap && exchangeWhere({ ...filter, search: undefined }, dialect, null).text === "")
      return {
        text: `WITH ${m.text} SELECT count(*) AS n FROM (SELECT 1 FROM m LIMIT ?) AS q`,
        params: [...m.params, cap + 1],
      };
    const b = pgSearchBranches(filter, null, null, probe);
    return {
      text: `WITH ${m.text} SELECT (SELECT count(*) FROM (SELECT 1 ${b.fromM.text} LIMIT ?) AS a)
        + (SELECT count(*) FROM (SELECT 1 ${b.walk.text} LIMIT ?) AS w) AS n`,
      params: [...m.params, ...b.fromM.params, cap + 1, ...b.walk.params, cap + 1],
    };
  }
  // A search on SQLite is driven by the FTS5 index (which stops at the cap), not an `IN` list of every match.
  const ftsDriven = dialect === "sqlite" && filter.search !== undefined;
  const w = exchangeWhere(ftsDriven ? { ...filter, search: undefined } : filter, dialect, null);
  const join = w.onExchange ? "JOIN" : "LEFT JOIN";
  const conds = ftsDriven ? ["responses_fts MATCH ?", w.text] : [w.text];
  const from = ftsDriven ? "responses_fts f JOIN responses r ON r.rowid = f.rowid" : "responses r";
  return {
    text: `SELECT count(*) AS n FROM (SELECT 1 FROM ${from} ${join} llm_relay_exchanges e ON e.response_id = r.id
      ${whereClause(conds)} LIMIT ?) AS q`,
    params: [...(ftsDriven ? [filter.search!.fts5] : []), ...w.params, cap + 1],
  };
}

/** One exchange with its raw JSON. */
export const EXCHANGE_BY_ID = `SELECT ${EXCHANGE_COLUMNS}, r.prompt_json, r.response_json, r.response, r.reasoning
FROM responses r LEFT JOIN llm_relay_exchanges e ON e.response_id = r.id WHERE r.id = ?`;

/** A conversation's turns, oldest first, at most `?` of them. */
export const CONVERSATION_TURNS = `SELECT ${EXCHANGE_COLUMNS}, r.prompt_json, r.response_json, r.response, r.reasoning
FROM responses r LEFT JOIN llm_relay_exchanges e ON e.response_id = r.id WHERE r.conversation_id = ? ORDER BY r.id LIMIT ?`;

/** The turns of a conversation after a turn's id (a cursor page of {@link CONVERSATION_TURNS}). */
export const CONVERSATION_TURNS_AFTER = `SELECT ${EXCHANGE_COLUMNS}, r.prompt_json, r.response_json, r.response, r.reasoning
FROM responses r LEFT JOIN llm_relay_exchanges e ON e.response_id = r.id WHERE r.conversation_id = ? AND r.id > ?
ORDER BY r.id LIMIT ?`;

/** The first response of the conversation of a response (for "is this the first turn"). */
export const FIRST_RESPONSE_OF = `SELECT first_response_id FROM llm_relay_conversation_stats WHERE conversation_id = ?`;

/** An exchange's attempts, in order. */
export const ATTEMPTS_OF = `SELECT attempt, model, deployment, provider, upstream_model, status, http_status, started_ms,
  duration_ms, error FROM llm_relay_attempts WHERE response_id = ? ORDER BY attempt`;

/** A row of {@link ATTEMPTS_OF}. */
export interface AttemptRow {
  attempt: number;
  model: string | null;
  deployment: string | null;
  provider: string | null;
  upstream_model: string | null;
  status: string | null;
  http_status: number | null;
  started_ms: number | null;
  duration_ms: number | null;
  error: string | null;
}

/** The roll-up column a usage group reads. */
const USAGE_GROUP_COLUMN: Record<UsageGroup, string> = { model: "model", tenant: "tenant_id", key: "key_id" };

/** Usage per UTC day and group over `[since, until)` (days `YYYY-MM-DD`), from the daily roll-up. */
export function usageStatement(by: UsageGroup, since: string, until: string): BrowseStatement {
  const col = USAGE_GROUP_COLUMN[by];
  return {
    text: `SELECT day, ${col} AS grp, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
      sum(output_tokens) AS output_tokens, sum(cost_nusd) AS cost_nusd
    FROM llm_relay_usage_daily WHERE day >= ? AND day < ? GROUP BY day, ${col} ORDER BY day, ${col}`,
    params: [since, until],
  };
}

/** A row of {@link usageStatement}. */
export interface UsageSqlRow {
  day: string;
  grp: string;
  requests: number | string;
  input_tokens: number | string;
  output_tokens: number | string;
  cost_nusd: number | string;
}

/** Most values a facet lists. */
export const FACET_CAP = 500;

/**
 * The distinct values of `col` of `table` (at most {@link FACET_CAP}, ascending), by a loose index
 * scan: one index seek per value (a recursive CTE), so the cost grows with the number of values,
 * not of rows. `col` must lead an index of `table`.
 */
export function facetStatement(table: string, col: string): string {
  return `WITH RECURSIVE f(v) AS (
    SELECT (SELECT min(${col}) FROM ${table})
    UNION ALL
    SELECT (SELECT min(${col}) FROM ${table} WHERE ${col} > f.v) FROM f WHERE f.v IS NOT NULL)
  SELECT v FROM f WHERE v IS NOT NULL LIMIT ${FACET_CAP}`;
}
