/**
 * The browser's JSON routes over the record store (`BrowseStore`), each answering the internal
 * endpoints' envelope `{success, message, data, metadata, error}` (`server/envelope.ts`):
 *
 * - `GET /ui/api/conversations?search&model&status&provider&protocol&tenant&key&since&until&limit&cursor` → `Page<ConversationSummary>`;
 * - `GET /ui/api/conversations/:id?limit&cursor` → `ConversationDetail` (a page of its turns, oldest first), or 404;
 * - `GET /ui/api/exchanges?…the same…&order=newest|errors-first` → `Page<ExchangeSummary>`;
 * - `GET /ui/api/exchanges/:id` → `ExchangeDetail`, or 404;
 * - `GET /ui/api/usage?by=model|tenant|key&since=YYYY-MM-DD&until=YYYY-MM-DD` (default: the last 30 UTC days, today included) → `UsageReport`;
 * - `GET /ui/api/facets` → `Facets`; `GET /ui/api/info` → `UiInfo`.
 *
 * A bad query (unknown parameter, malformed value) or a malformed cursor: 400 `invalid_request`
 * (`invalid_request_error`), its `error.details.param` naming the parameter. Errors are thrown as
 * `RelayError`s and written by the app's error handler, which answers the envelope on `/ui/*` (`server/errors.ts`).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { BrowseInputError } from "../../browse/errors.js";
import type { BrowseFilter, ExchangeOrder, PageRequest } from "../../browse/types.js";
import { errors } from "../../protocol/error-codes.js";
import { invalidRequest, type RelayError } from "../../protocol/errors.js";
import { envelope } from "../envelope.js";
import type { UiInfo } from "./api-types.js";
import { uiAuthState } from "./auth.js";
import type { UiContext } from "./ui-context.js";

/** Rows per page when the query names none. */
export const DEFAULT_PAGE_LIMIT = 50;
/** Most UTC days one usage query may cover. */
export const MAX_USAGE_DAYS = 731;
/** Days of the usage report when `since` is not given (today included). */
export const DEFAULT_USAGE_DAYS = 30;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?Z?)?$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** An optional text parameter; an empty value (a cleared form field) counts as absent. */
const text = (max: number) => z.string().max(max).optional();
/** An ISO 8601 date or date-time, UTC, made comparable with llm's `datetime_utc` text (no `Z`). */
const instant = z
  .string()
  .regex(DATE_TIME, "must be an ISO 8601 date or date-time (UTC), e.g. 2026-12-05 or 2026-12-05T10:00")
  .refine((v) => !Number.isNaN(Date.parse(v.endsWith("Z") || v.length === 10 ? v : `${v}Z`)), "is not a real date")
  .transform((v) => v.replace(/Z$/, ""))
  .optional();

const filterShape = {
  search: text(500),
  model: text(200),
  status: z.enum(["ok", "error", "cancelled", "truncated", "history"]).optional(),
  provider: text(100),
  protocol: text(50),
  tenant: text(200),
  key: text(100),
  since: instant,
  until: instant,
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor: z
    .string()
    .max(1000)
    .regex(/^[A-Za-z0-9_\-.~=:+/]+$/, "is not a cursor of this list")
    .optional(),
};

const conversationsQuery = z.strictObject(filterShape);
const exchangesQuery = z.strictObject({ ...filterShape, order: z.enum(["newest", "errors-first"]).default("newest") });
const usageQuery = z.strictObject({
  by: z.enum(["model", "tenant", "key"]).default("model"),
  since: z.string().regex(DAY, "must be a date YYYY-MM-DD").optional(),
  until: z.string().regex(DAY, "must be a date YYYY-MM-DD").optional(),
});
const idParam = z.strictObject({ id: z.string().min(1).max(100) });
const turnsQuery = z.strictObject({ limit: filterShape.limit, cursor: filterShape.cursor });

/** Registers the routes on `app`. */
export function registerUiApiRoutes(app: FastifyInstance, ui: UiContext): void {
  const store = ui.browse;

  app.get("/ui/api/conversations", async (request) => {
    const query = parseQuery(conversationsQuery, request.query);
    const page = await storeQuery(() => store.conversations(filterOf(query), pageOf(query)));
    return envelope({
      data: page,
      message: `${page.items.length} conversation${page.items.length === 1 ? "" : "s"}`,
      metadata: { count: page.count, nextCursor: page.nextCursor },
    });
  });

  app.get("/ui/api/conversations/:id", async (request) => {
    const { id } = parseQuery(idParam, request.params);
    const query = parseQuery(turnsQuery, request.query);
    const detail = await storeQuery(() => store.conversation(id, pageOf(query)));
    if (!detail) throw errors.notFound(`No conversation '${id}' in the records.`, { param: "id" });
    return envelope({
      data: detail,
      message: `${detail.turns.length} turn${detail.turns.length === 1 ? "" : "s"}`,
      metadata: { nextCursor: detail.nextCursor },
    });
  });

  app.get("/ui/api/exchanges", async (request) => {
    const query = parseQuery(exchangesQuery, request.query);
    const order: ExchangeOrder = query.order;
    const page = await storeQuery(() => store.exchanges(filterOf(query), order, pageOf(query)));
    return envelope({
      data: page,
      message: `${page.items.length} exchange${page.items.length === 1 ? "" : "s"}`,
      metadata: { count: page.count, nextCursor: page.nextCursor, order },
    });
  });

  app.get("/ui/api/exchanges/:id", async (request) => {
    const { id } = parseQuery(idParam, request.params);
    const detail = await storeQuery(() => store.exchange(id));
    if (!detail) throw errors.notFound(`No exchange '${id}' in the records.`, { param: "id" });
    return envelope({ data: detail, message: `exchange ${id}`, metadata: { attempts: detail.attempts.length } });
  });

  app.get("/ui/api/usage", async (request) => {
    const query = parseQuery(usageQuery, request.query);
    const { since, until } = usageRange(query.since, query.until);
    const report = await storeQuery(() => store.usage(query.by, since, until));
    return envelope({
      data: report,
      message: `${report.rows.length} row${report.rows.length === 1 ? "" : "s"} by ${query.by}, ${since} to ${until}`,
      metadata: { since, until, by: query.by },
    });
  });

  app.get("/ui/api/facets", async () => {
    const facets = await storeQuery(() => store.facets());
    return envelope({ data: facets, message: `${facets.models.length} models` });
  });

  app.get("/ui/api/info", async () => {
    const info: UiInfo = { ...ui.info, auth: (await uiAuthState(ui)) !== "open" };
    return envelope({ data: info, message: `llm-relay ${info.version}` });
  });
}

/**
 * The days `[since, until)` of a usage query: defaults to the last {@link DEFAULT_USAGE_DAYS} UTC days (today included).
 * @throws RelayError 400 when `since` is not before `until`, a date is not real, or the range exceeds {@link MAX_USAGE_DAYS}
 */
export function usageRange(
  since: string | undefined,
  until: string | undefined,
  now = Date.now(),
): {
  since: string;
  until: string;
} {
  const DAY_MS = 86_400_000;
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const untilMs = until === undefined ? today + DAY_MS : dayMs(until, "until");
  const sinceMs = since === undefined ? untilMs - DEFAULT_USAGE_DAYS * DAY_MS : dayMs(since, "since");
  if (sinceMs >= untilMs)
    throw invalidRequest("Invalid query: since must be before until.", "since", "invalid_request");
  if ((untilMs - sinceMs) / DAY_MS > MAX_USAGE_DAYS)
    throw invalidRequest(`Invalid query: at most ${MAX_USAGE_DAYS} days at once.`, "since", "invalid_request");
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { since: day(sinceMs), until: day(untilMs) };
}

function dayMs(day: string, param: string): number {
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day)
    throw invalidRequest(`Invalid query: ${param}: '${day}' is not a real date.`, param, "invalid_request");
  return ms;
}

type FilterQuery = z.infer<typeof conversationsQuery>;

/** The store's filter from a validated query (`key` → `keyId`; empty values left out). */
function filterOf(query: FilterQuery): BrowseFilter {
  const filter: BrowseFilter = {};
  if (query.search?.trim()) filter.search = query.search.trim();
  if (query.model) filter.model = query.model;
  if (query.status) filter.status = query.status;
  if (query.provider) filter.provider = query.provider;
  if (query.protocol) filter.protocol = query.protocol;
  if (query.tenant) filter.tenant = query.tenant;
  if (query.key) filter.keyId = query.key;
  if (query.since) filter.since = query.since;
  if (query.until) filter.until = query.until;
  return filter;
}

function pageOf(query: { limit?: number; cursor?: string }): PageRequest {
  return { limit: query.limit ?? DEFAULT_PAGE_LIMIT, cursor: query.cursor ?? null };
}

/**
 * Runs a store query; input the store refuses (its `BrowseInputError`: a malformed cursor, a bad date or
 * limit) is a 400 `invalid_request` instead of a 500.
 */
async function storeQuery<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof BrowseInputError) {
      const param = /cursor/i.test(error.message) ? "cursor" : null;
      throw invalidRequest(`Invalid query: ${error.message}`, param, "invalid_request");
    }
    throw error;
  }
}

/**
 * Parses a query (empty values dropped first: a cleared form field means "any").
 * @throws RelayError 400 `invalid_request` naming the first bad parameter (`param`)
 */
function parseQuery<T>(schema: z.ZodType<T>, value: unknown): T {
  const given = Object.fromEntries(
    Object.entries((value ?? {}) as Record<string, unknown>).filter(([, v]) => v !== "" && v !== undefined),
  );
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
  const param = keys.length > 0 ? keys.join(", ") : issue.path.join(".");
  const message =
    keys.length > 0
      ? `unknown parameter${keys.length === 1 ? "" : "s"}`
      : `${issue.message}`.replace(/^Invalid input: /, "");
  const error: RelayError = invalidRequest(
    `Invalid query: ${param || "(root)"}: ${message}.`,
    param || null,
    "invalid_request",
  );
  throw error;
}
