/**
 * The queries of the browser's pages, as `/ui/api/*` asks them of the
 * `BrowseStore`, over the bench's data: what each page shows first, the
 * filters and searches a user tries, a page half-way down the list, a short
 * and the longest conversation, the usage report and the filter menus.
 */
import type { BrowseStore, ConversationDetail, Page } from "../../src/browse/types.js";
import { COMMON_WORD, RARE_WORD } from "./corpus.js";
import { LONGEST_MARKER, TEN_TURN_MARKER } from "./plan.js";

/** One timed query. */
export interface BenchQuery {
  /** The line of the report: page, then what it asks. */
  label: string;
  run: () => Promise<unknown>;
}

/** What the queries need to know of the data, found before timing. */
export interface QueryFacts {
  tenTurnId: string;
  longestId: string;
  longestTurns: number;
  /** A cursor of the conversations list after half of its rows. */
  midCursor: string;
  /** Rows paged through to reach `midCursor`. */
  midRows: number;
  /** An exchange id (the newest one). */
  exchangeId: string;
}

/** Rows per page, as the pages ask (the API's default). */
export const PAGE = 50;

async function conversationBySearch(store: BrowseStore, marker: string): Promise<string> {
  const page = await store.conversations({ search: marker }, { limit: 1 });
  const id = page.items[0]?.id;
  if (id === undefined) throw new Error(`no conversation holds the marker '${marker}'`);
  return id;
}

/**
 * Finds the marked conversations, a cursor half-way down the conversations list (by paging
 * through it, 200 rows a page, until `half` rows), and an exchange id.
 * @throws Error when a marked conversation is missing or the list ends before `half` rows
 */
export async function findFacts(store: BrowseStore, half: number): Promise<QueryFacts> {
  const tenTurnId = await conversationBySearch(store, TEN_TURN_MARKER);
  const longestId = await conversationBySearch(store, LONGEST_MARKER);
  const longest = await store.conversation(longestId);
  let cursor: string | null = null;
  let rows = 0;
  while (rows < half) {
    const page: Page<unknown> = await store.conversations({}, { limit: Math.min(200, half - rows), cursor });
    rows += page.items.length;
    cursor = page.nextCursor;
    if (cursor === null) throw new Error(`the conversations list ended after ${rows} rows, before ${half}`);
  }
  const newest = await store.exchanges({}, "newest", { limit: 1 });
  const exchangeId = newest.items[0]?.id;
  if (exchangeId === undefined) throw new Error("no exchange recorded");
  return {
    tenTurnId,
    longestId,
    longestTurns: longest?.summary.turns ?? 0,
    midCursor: cursor!,
    midRows: rows,
    exchangeId,
  };
}

/** `YYYY-MM-DD` of `ms` (UTC). */
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The queries, in the order of the report. */
export function browseQueries(store: BrowseStore, facts: QueryFacts, nowMs: number = Date.now()): BenchQuery[] {
  const first = { limit: PAGE };
  const conversation = async (id: string): Promise<ConversationDetail> => {
    // The largest page of turns (200): the longest conversation whole, as measured before turns were paged.
    const found = await store.conversation(id, { limit: 200 });
    if (found === null) throw new Error(`conversation ${id} not found`);
    return found;
  };
  return [
    { label: "conversations: first page", run: () => store.conversations({}, first) },
    { label: "conversations: model = gpt-4o", run: () => store.conversations({ model: "gpt-4o" }, first) },
    {
      label: "conversations: tenant = globex, status = error",
      run: () => store.conversations({ tenant: "globex", status: "error" }, first),
    },
    {
      label: `conversations: search rare word "${RARE_WORD}"`,
      run: () => store.conversations({ search: RARE_WORD }, first),
    },
    {
      label: `conversations: search common word "${COMMON_WORD}"`,
      run: () => store.conversations({ search: COMMON_WORD }, first),
    },
    {
      label: `conversations: deep page (after ${facts.midRows.toLocaleString("en-US")} rows)`,
      run: () => store.conversations({}, { limit: PAGE, cursor: facts.midCursor }),
    },
    { label: "conversation: 10 turns", run: () => conversation(facts.tenTurnId) },
    { label: `conversation: the longest (${facts.longestTurns} turns)`, run: () => conversation(facts.longestId) },
    { label: "exchanges: first page (newest)", run: () => store.exchanges({}, "newest", first) },
    { label: "exchanges: errors first", run: () => store.exchanges({}, "errors-first", first) },
    { label: "exchanges: model = o3-mini", run: () => store.exchanges({ model: "o3-mini" }, "newest", first) },
    {
      label: "exchanges: tenant = initech, status = cancelled",
      run: () => store.exchanges({ tenant: "initech", status: "cancelled" }, "newest", first),
    },
    {
      label: `exchanges: search rare word "${RARE_WORD}"`,
      run: () => store.exchanges({ search: RARE_WORD }, "newest", first),
    },
    {
      label: `exchanges: search common word "${COMMON_WORD}"`,
      run: () => store.exchanges({ search: COMMON_WORD }, "newest", first),
    },
    { label: "exchange: detail", run: () => store.exchange(facts.exchangeId) },
    {
      label: "usage: 30 days by model",
      run: () => store.usage("model", day(nowMs - 30 * 86_400_000), day(nowMs + 86_400_000)),
    },
    { label: "facets", run: () => store.facets() },
  ];
}

/** How many rows a query's result shows (items of a page, turns of a conversation, rows of the usage report). */
export function resultRows(result: unknown): number {
  if (result === null || typeof result !== "object") return 0;
  const r = result as Record<string, unknown>;
  if (Array.isArray(r.items)) return r.items.length;
  if (Array.isArray(r.turns)) return r.turns.length;
  if (Array.isArray(r.rows)) return r.rows.length;
  if (Array.isArray(r.models))
    return Object.values(r).reduce((n: number, v) => n + (Array.isArray(v) ? v.length : 0), 0);
  return 1;
}
