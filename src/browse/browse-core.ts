/**
 * The {@link BrowseStore} over any database that runs the statements of browse-sql.ts: paging,
 * cursors, the errors-first phases and the mapping of rows to the page's shapes. The SQLite and
 * PostgreSQL stores give it a {@link RunStatement} and nothing else, so both answer alike.
 */
import { BrowseInputError } from "./errors.js";
import {
  ATTEMPTS_OF,
  CONVERSATION_BY_ID,
  CONVERSATION_TURNS,
  CONVERSATION_TURNS_AFTER,
  EXCHANGE_BY_ID,
  FIRST_RESPONSE_OF,
  SEARCH_PROBE,
  checkFilter,
  conversationsByIdsStatement,
  conversationsCountStatement,
  conversationsStatement,
  exchangesCountStatement,
  exchangesStatement,
  facetStatement,
  matchAboveStatement,
  searchConversationsCountStatement,
  searchMatchesStatement,
  usageStatement,
  type AttemptRow,
  type BrowseDialect,
  type BrowseStatement,
  type CheckedFilter,
  type ConversationRow,
  type ErrorPhase,
  type ExchangeDetailRow,
  type ExchangeListRow,
  type ExchangeRow,
  type SearchMatchRow,
  type UsageSqlRow,
} from "./browse-sql.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { parseJson, turnInput, turnOutput } from "./turns.js";
import type {
  AttemptView,
  BoundedCount,
  BrowseFilter,
  BrowseStatus,
  BrowseStore,
  ConversationDetail,
  ConversationSummary,
  ExchangeDetail,
  ExchangeOrder,
  ExchangeSummary,
  Facets,
  Page,
  PageRequest,
  TurnView,
  UsageGroup,
  UsageReport,
} from "./types.js";

/** Runs one statement (text with `?` placeholders) and returns its rows. */
export type RunStatement = <T>(statement: BrowseStatement) => Promise<T[]>;

/** Options of a browse store. */
export interface BrowseOptions {
  /** Where counts stop (`count.exact` false beyond it); default {@link COUNT_CAP}. */
  countCap?: number;
  /** Matches a PostgreSQL search asks its GIN index for first; default {@link SEARCH_PROBE} (tests lower it to reach the walk). */
  searchProbe?: number;
}

/** Rows per page when the request names none. */
export const DEFAULT_PAGE_LIMIT = 50;
/** Most rows per page. */
export const MAX_PAGE_LIMIT = 200;
/** Where a count stops (`count.exact` false beyond it). */
export const COUNT_CAP = 10_000;
/** Matches a conversations search reads per round on SQLite (at least). */
const SEARCH_BATCH = 256;
/**
 * Where a search's count stops: matches are read from the heap (PostgreSQL computes `to_tsvector`
 * for each; 22 ms per 1,000 on the bench's machine), so a search counts to 1,000, not {@link COUNT_CAP}.
 */
export const SEARCH_COUNT_CAP = 1_000;
/** Matches a conversations search's count reads at most (beyond: "at least"). */
const SEARCH_COUNT_MATCHES = SEARCH_COUNT_CAP + 1;
/** Days the usage report covers when asked for none. */
const USAGE_DEFAULT_DAYS = 30;

const toNumber = (v: number | string | null): number | null => (v === null ? null : Number(v));

/** The page size of `page`. @throws BrowseInputError when not an integer 1–200 */
function pageLimit(page: PageRequest): number {
  const limit = page.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT)
    throw new BrowseInputError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  return limit;
}

const STATUS_SET = new Set<string>(["ok", "error", "cancelled", "truncated"]);

function exchangeStatus(row: ExchangeRow): BrowseStatus {
  if (row.exchange_id === null) return "history";
  return row.status !== null && STATUS_SET.has(row.status) ? (row.status as BrowseStatus) : "ok";
}

/** A count from `token_details` (`path` of nested keys), or null. */
function detailCount(details: unknown, ...paths: string[][]): number | null {
  for (const path of paths) {
    let v: unknown = details;
    for (const key of path) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined;
    if (typeof v === "number") return v;
  }
  return null;
}

/** An exchanges row as the page shows it. */
export function exchangeSummary(row: ExchangeRow): ExchangeSummary {
  const details = parseJson(row.token_details);
  const has = row.exchange_id !== null;
  return {
    id: row.id,
    conversationId: row.conversation_id,
    datetimeUtc: row.datetime_utc ?? "",
    model: row.model ?? "",
    resolvedModel: row.resolved_model,
    provider: row.provider,
    deployment: row.deployment,
    protocol: has ? (row.protocol ?? "chat") : null,
    client: row.client,
    status: exchangeStatus(row),
    httpStatus: toNumber(row.http_status),
    error: row.error,
    finishReason: row.finish_reason,
    stream: row.stream === null ? null : Number(row.stream) === 1,
    inputTokens: toNumber(row.input_tokens),
    outputTokens: toNumber(row.output_tokens),
    cachedTokens: detailCount(details, ["prompt_tokens_details", "cached_tokens"], ["cache_read_input_tokens"]),
    reasoningTokens: detailCount(details, ["completion_tokens_details", "reasoning_tokens"]),
    usageEstimated: row.usage_estimated === null ? null : Number(row.usage_estimated) === 1,
    costUsd: toNumber(row.cost_usd),
    durationMs: toNumber(row.duration_ms),
    ttftMs: toNumber(row.ttft_ms),
    overheadMs: toNumber(row.overhead_ms),
    attempts: toNumber(row.attempts),
    tenantId: row.tenant_id,
    keyId: row.key_id,
    promptPreview: row.prompt_preview,
  };
}

/** A stats row as the page shows it. */
export function conversationSummary(row: ConversationRow): ConversationSummary {
  return {
    id: row.id,
    name: row.name,
    model: row.model,
    protocol: row.protocol,
    client: row.client,
    provider: row.provider,
    tenantId: row.tenant_id,
    keyId: row.key_id,
    turns: Number(row.turns),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costUsd: toNumber(row.cost_usd),
    lastStatus: (STATUS_SET.has(row.last_status) || row.last_status === "history"
      ? row.last_status
      : "ok") as BrowseStatus,
    firstUtc: row.first_utc ?? "",
    lastUtc: row.last_utc ?? "",
    lastResponseId: row.last_response_id,
  };
}

function turnView(row: ExchangeDetailRow, firstTurn: boolean): TurnView {
  return {
    exchange: exchangeSummary(row),
    input: turnInput(parseJson(row.prompt_json), firstTurn),
    output: turnOutput(parseJson(row.response_json), row.response, row.reasoning),
  };
}

const ATTEMPT_STATUSES = new Set(["ok", "error", "timeout", "unreachable", "cancelled"]);

function attemptView(row: AttemptRow): AttemptView {
  return {
    attempt: Number(row.attempt),
    model: row.model,
    deployment: row.deployment,
    provider: row.provider,
    upstreamModel: row.upstream_model,
    status: (row.status !== null && ATTEMPT_STATUSES.has(row.status) ? row.status : "error") as AttemptView["status"],
    httpStatus: toNumber(row.http_status),
    startedMs: Number(row.started_ms ?? 0),
    durationMs: Number(row.duration_ms ?? 0),
    error: row.error,
  };
}

/** `YYYY-MM-DD` of a UTC date. */
const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function checkDay(value: string, name: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    throw new BrowseInputError(`${name} must be a date YYYY-MM-DD: ${value}`);
  return value;
}

/** The browser's queries over `run`, in `dialect`; see {@link BrowseStore}. */
export class BrowseQueries implements Omit<BrowseStore, "close"> {
  private readonly countCap: number;
  private readonly probe: number;

  /** @param options.countCap where counts stop (default {@link COUNT_CAP}) */
  constructor(
    private readonly run: RunStatement,
    private readonly dialect: BrowseDialect,
    options: BrowseOptions = {},
  ) {
    this.countCap = options.countCap ?? COUNT_CAP;
    this.probe = options.searchProbe ?? SEARCH_PROBE;
  }

  private async count(statement: BrowseStatement, cap = this.countCap): Promise<BoundedCount> {
    const [row] = await this.run<{ n: number | string }>(statement);
    const n = Number(row?.n ?? 0);
    return n > cap ? { value: cap, exact: false } : { value: n, exact: true };
  }

  async conversations(filter: BrowseFilter, page: PageRequest): Promise<Page<ConversationSummary>> {
    const f = checkFilter(filter);
    const limit = pageLimit(page);
    if (f.search) return this.searchConversations(f, limit, page.cursor ?? null);
    const after = page.cursor ? decodeCursor(page.cursor, 1)[0]! : null;
    const rows = await this.run<ConversationRow>(conversationsStatement(f, this.dialect, after, limit + 1));
    const items = rows.slice(0, limit).map(conversationSummary);
    return {
      items,
      nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1]!.lastResponseId]) : null,
      count: after === null ? await this.count(conversationsCountStatement(f, this.dialect, this.countCap)) : null,
    };
  }

  /**
   * Conversations with a match of the search, ordered by their newest match (newest first): the
   * matches are walked newest first in batches, each new conversation kept if it passes the other
   * filters, until the page is full — so a common word costs a page's worth of matches, not all of
   * them. The cursor is the newest match of the page's last conversation; a later page skips the
   * conversations with a match above it (listed, or filtered out, already).
   */
  private async searchConversations(
    f: CheckedFilter,
    limit: number,
    cursor: string | null,
  ): Promise<Page<ConversationSummary>> {
    const search = f.search!;
    let after: string | null = null;
    if (cursor) {
      const [tag, key] = decodeCursor(cursor, 2) as [string, string];
      if (tag !== "s") throw new BrowseInputError("malformed cursor");
      after = key;
    }
    const seen = new Set<string>();
    const accepted: { summary: ConversationSummary; key: string }[] = [];
    let before = after;
    let probe = this.probe;
    for (;;) {
      // PostgreSQL's walk computes `to_tsvector` per row (22 µs): a batch of twice the rows still wanted
      // costs 40 % of one of 256 for a word in 2.5 % of the rows. SQLite's FTS5 walk is cheap per match.
      const wanted = 2 * (limit + 1 - accepted.length);
      const batch = this.dialect === "postgres" ? Math.max(wanted, 16) : Math.max(SEARCH_BATCH, wanted);
      const matches = await this.run<SearchMatchRow>(
        searchMatchesStatement(search, this.dialect, before, batch, probe),
      );
      // A full probe (PostgreSQL) leaves at least `probe - batch` matches below this batch: the next rounds walk at once.
      if (matches.some((m) => m.walked === true) && probe > 2 * batch) probe = 0;
      const candidates: { id: string; key: string }[] = [];
      for (const m of matches) {
        if (m.cid === null || seen.has(m.cid)) continue;
        seen.add(m.cid);
        if (after !== null) {
          const [above] = await this.run<{ hit: number }>(matchAboveStatement(search, this.dialect, m.cid, after));
          if (above) continue;
        }
        candidates.push({ id: m.cid, key: String(m.k) });
      }
      if (candidates.length > 0) {
        const rows = await this.run<ConversationRow>(
          conversationsByIdsStatement(
            f,
            this.dialect,
            candidates.map((c) => c.id),
          ),
        );
        const byId = new Map(rows.map((r) => [r.id, r]));
        for (const c of candidates) {
          const row = byId.get(c.id);
          if (row) accepted.push({ summary: conversationSummary(row), key: c.key });
        }
      }
      if (accepted.length > limit || matches.length < batch) break;
      before = String(matches[matches.length - 1]!.k);
    }
    const items = accepted.slice(0, limit);
    let count: BoundedCount | null = null;
    if (cursor === null) {
      const [row] = await this.run<{ n: number | string; m: number | string }>(
        searchConversationsCountStatement(
          f,
          this.dialect,
          SEARCH_COUNT_MATCHES,
          Math.min(this.countCap, SEARCH_COUNT_CAP),
        ),
      );
      const n = Number(row?.n ?? 0);
      const complete = Number(row?.m ?? 0) < SEARCH_COUNT_MATCHES;
      const cap = Math.min(this.countCap, SEARCH_COUNT_CAP);
      count = n > cap ? { value: cap, exact: false } : { value: n, exact: complete };
    }
    return {
      items: items.map((a) => a.summary),
      nextCursor: accepted.length > limit ? encodeCursor(["s", accepted[limit - 1]!.key]) : null,
      count,
    };
  }

  async conversation(id: string, page: PageRequest = {}): Promise<ConversationDetail | null> {
    const limit = pageLimit(page);
    const after = page.cursor ? decodeCursor(page.cursor, 1)[0]! : null;
    const [summary] = await this.run<ConversationRow>({ text: CONVERSATION_BY_ID, params: [id] });
    if (!summary) return null;
    const rows = await this.run<ExchangeDetailRow>(
      after === null
        ? { text: CONVERSATION_TURNS, params: [id, limit + 1] }
        : { text: CONVERSATION_TURNS_AFTER, params: [id, after, limit + 1] },
    );
    const shown = rows.slice(0, limit);
    return {
      summary: conversationSummary(summary),
      // Only the conversation's first turn shows every message of its request (system prompt included).
      turns: shown.map((row, i) => turnView(row, after === null && i === 0)),
      nextCursor: rows.length > limit ? encodeCursor([shown[limit - 1]!.id]) : null,
    };
  }

  async exchanges(filter: BrowseFilter, order: ExchangeOrder, page: PageRequest): Promise<Page<ExchangeSummary>> {
    const f = checkFilter(filter);
    const limit = pageLimit(page);
    if (order !== "newest" && order !== "errors-first") throw new BrowseInputError(`unknown order: ${String(order)}`);
    // errors-first: the exchanges with status error newest first, then all the others newest first.
    const phases: ErrorPhase[] = order === "newest" ? [null] : this.errorPhases(f);
    let phaseAt = 0;
    let after: string | null = null;
    if (page.cursor) {
      const [phase, id] = decodeCursor(page.cursor, 2) as [string, string];
      phaseAt = Number(phase);
      if (!Number.isInteger(phaseAt) || phaseAt < 0 || phaseAt >= phases.length)
        throw new BrowseInputError("malformed cursor");
      after = id === "~" ? null : id;
    }
    const items: ExchangeSummary[] = [];
    let nextCursor: string | null = null;
    for (let p = phaseAt; p < phases.length; p++) {
      const want = limit - items.length;
      const rows = await this.run<ExchangeListRow>(
        exchangesStatement(f, this.dialect, phases[p]!, p === phaseAt ? after : null, want + 1, this.probe),
      );
      items.push(...rows.slice(0, want).map(exchangeSummary));
      if (rows.length > want) {
        nextCursor = encodeCursor([String(p), String(rows[want - 1]!.sort_key)]);
        break;
      }
      if (items.length === limit && p + 1 < phases.length) {
        // The page is full at a phase's end: the next page starts the next phase.
        nextCursor = encodeCursor([String(p + 1), "~"]);
        break;
      }
    }
    const cap = f.search ? Math.min(this.countCap, SEARCH_COUNT_CAP) : this.countCap;
    return {
      items,
      nextCursor,
      count: page.cursor ? null : await this.count(exchangesCountStatement(f, this.dialect, cap, this.probe), cap),
    };
  }

  /** The phases of the errors-first order a filter leaves non-empty. */
  private errorPhases(f: CheckedFilter): ErrorPhase[] {
    if (f.status === undefined) return ["errors", "others"];
    return f.status === "error" ? ["errors"] : ["others"];
  }

  async exchange(id: string): Promise<ExchangeDetail | null> {
    const [row] = await this.run<ExchangeDetailRow>({ text: EXCHANGE_BY_ID, params: [id] });
    if (!row) return null;
    let firstTurn = true;
    if (row.conversation_id !== null) {
      const [first] = await this.run<{ first_response_id: string | null }>({
        text: FIRST_RESPONSE_OF,
        params: [row.conversation_id],
      });
      firstTurn = first === undefined || first.first_response_id === row.id;
    }
    const attempts = await this.run<AttemptRow>({ text: ATTEMPTS_OF, params: [id] });
    return {
      turn: turnView(row, firstTurn),
      attempts: attempts.map(attemptView),
      requestJson: parseJson(row.prompt_json),
      responseJson: parseJson(row.response_json),
    };
  }

  async usage(by: UsageGroup, since: string, until: string): Promise<UsageReport> {
    if (by !== "model" && by !== "tenant" && by !== "key")
      throw new BrowseInputError(`unknown usage group: ${String(by)}`);
    const end = until === "" ? isoDay(Date.now() + 86_400_000) : checkDay(until, "until");
    const start =
      since === ""
        ? isoDay(Date.parse(`${end}T00:00:00Z`) - USAGE_DEFAULT_DAYS * 86_400_000)
        : checkDay(since, "since");
    const rows = await this.run<UsageSqlRow>(usageStatement(by, start, end));
    return {
      since: start,
      until: end,
      by,
      rows: rows.map((r) => ({
        day: r.day,
        group: by === "key" && r.grp === "" ? null : r.grp,
        requests: Number(r.requests),
        inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens),
        costUsd: Number(r.cost_nusd) / 1e9,
      })),
    };
  }

  async facets(): Promise<Facets> {
    const values = async (table: string, col: string): Promise<string[]> =>
      (await this.run<{ v: string }>({ text: facetStatement(table, col), params: [] })).map((r) => r.v);
    return {
      models: await values("responses", "model"),
      providers: await values("llm_relay_exchanges", "provider"),
      protocols: await values("llm_relay_exchanges", "protocol"),
      tenants: await values("llm_relay_exchanges", "tenant_id"),
      keyIds: await values("llm_relay_exchanges", "key_id"),
    };
  }
}
