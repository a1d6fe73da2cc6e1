/**
 * Admission of `/v1/*` requests, a Fastify `preHandler` (the body is
 * parsed by then): who is calling (API key → tenant), whether the key may
 * call the model, whether its budget has room, and whether its rate limits
 * admit the request — all before any upstream call.
 *
 * - Auth (`auth:` in the config): `off` never checks keys; `required` always
 *   does; `auto` (the default) does once any key exists in the tenancy store.
 *   Without keys every request is tenant `default`, key null.
 * - Hot path without keys: `anyKeys()` is asked at most once per
 *   {@link ANY_KEYS_TTL_MS} (a key created by `llm-relay keys create` in another
 *   process is seen within that time); once a key exists it stays true
 *   (revoked keys count), so the store is never asked again.
 * - With keys, the key is verified against the store on every request (no
 *   cache): a revoked key is refused at once, on every instance.
 *
 * Answers (OpenAI error bodies): 401 `invalid_api_key` (missing, malformed,
 * unknown or revoked key), 403 `model_not_allowed` (type `permission_error`),
 * 400 `invalid_operation` (bad `x-llm-relay-operation`), 429 `budget_exceeded`
 * (type `insufficient_quota`), 403 `model_not_priced` (type `permission_error`:
 * a caller with a USD budget asked for a model routing could send to a
 * deployment with no price — neither its config's `input_cost_per_mtok` and
 * `output_cost_per_mtok` nor the catalog's, and not a local provider, which
 * costs 0 — unless `allow_unpriced`), 429 `rate_limit_exceeded` (with
 * `Retry-After` and OpenAI's `x-ratelimit-*` headers), 503
 * `rate_limiter_unavailable` (Redis down: fails closed).
 *
 * A rate-limit reservation is settled with the exchange's actual tokens when
 * the exchange is booked ({@link exchangeAccount} hands it over). A request
 * that ends without an exchange — an idempotent replay, a 409/422 of the
 * `Idempotency-Key` flow, an invalid body — gives its reserved tokens back
 * when its response is sent ({@link Admission.releaseUnused}); it still
 * counts as a request against `rpm`.
 */
import { errors } from "../protocol/error-codes.js";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { AuthMode, TenantBudget } from "../config/load.js";
import { countEmbeddingInputTokens } from "../protocol/embeddings.js";
import { RelayError } from "../protocol/errors.js";
import { rateLimitError, type RateLimiter } from "../ratelimit/index.js";
import type { ExchangeAccount, ExchangeBilling } from "../recording/types.js";
import { isKeyShaped } from "../tenancy/api-keys.js";
import { idempotencyLedgerKey, requestLedgerKey } from "../tenancy/ledger-keys.js";
import { nanoUsdToUsd, usdToNanoUsd } from "../tenancy/nano-usd.js";
import type { TenancyStore } from "../tenancy/store.js";
import { DEFAULT_TENANT, type ApiKey, type UsageOperation } from "../tenancy/types.js";
import { countPromptTokens, EVENT_LOOP_COUNT_LIMIT_CHARS } from "../tokens/count.js";
import type { ChatMessage } from "../protocol/chat-request.js";
import { firstUnpricedRoute } from "../catalog/unpriced-route.js";
import { deploymentLabel, type Route, type Router } from "../routing/router.js";

/** How long a "no key exists" answer of the store is trusted, in ms. */
export const ANY_KEYS_TTL_MS = 1000;
/** Response header with the USD left in the key's budget for the current period (6 decimals at most). */
export const BUDGET_HEADER = "x-llm-relay-budget-remaining-usd";
/** Request header naming why a call is made: `query` (default), `batch` or `internal`. */
export const OPERATION_HEADER = "x-llm-relay-operation";
const OPERATIONS: readonly UsageOperation[] = ["query", "batch", "internal"];
/** Billed routes whose exchanges are embeddings: only an input price is needed for them to be priced. */
const EMBEDDING_ROUTES = new Set(["/v1/embeddings", "/api/embed", "/api/embeddings"]);
/** Routes whose requests are billed: budgets and rate limits apply to them. */
const BILLED_ROUTES = new Set(["/v1/chat/completions", "/v1/embeddings", "/v1/messages", "/v1/responses"]);

/**
 * The path prefixes of the public API, whose requests pass admission: OpenAI's and Anthropic's `/v1/*`,
 * Ollama's `/api/*`, Gemini's `/v1beta/*` (`/openai/v1/*` is rewritten to `/v1/*` before routing).
 */
export const PUBLIC_API_PREFIXES = ["/v1/", "/api/", "/v1beta/"] as const;

/** Whether a route (its registered URL) is part of the public API, where keys, budgets and rate limits apply. */
export function isPublicApiRoute(routeUrl: string | undefined): boolean {
  return routeUrl !== undefined && PUBLIC_API_PREFIXES.some((prefix) => routeUrl.startsWith(prefix));
}

/**
 * The API key a request carries, in the order checked: `Authorization: Bearer <key>` (OpenAI, Groq, Ollama
 * clients), `x-api-key` (Anthropic's SDK, Claude Code), `x-goog-api-key` (Google's SDKs, Gemini CLI), the
 * `key` query parameter (the Gemini API's other form). Null when none is given.
 */
export function requestApiKey(request: Pick<FastifyRequest, "headers" | "query">): string | null {
  const headerKey = (name: string): string | null => {
    const value = request.headers[name];
    return typeof value === "string" && value !== "" ? value : null;
  };
  const query = request.query as Record<string, unknown> | null | undefined;
  const queryKey = typeof query?.key === "string" && query.key !== "" ? query.key : null;
  return (
    bearerToken(request.headers.authorization) ?? headerKey("x-api-key") ?? headerKey("x-goog-api-key") ?? queryKey
  );
}

/** Who a request is for, attached as `request.tenant` by admission. */
export interface RequestTenant {
  /** The key's tenant, or `default` without keys. */
  tenantId: string;
  /** The key's id, or null without keys. */
  keyId: string | null;
  /** The key's record, or null without keys. */
  key: ApiKey | null;
}

/** What admission needs of the router to tell whether a model is priced (`Router` satisfies it). */
export type PricingRouter = Pick<Router, "resolve" | "reachableRoutes">;

/** Options of {@link Admission}. */
export interface AdmissionOptions {
  auth: AuthMode;
  logger: Logger;
  /** Where model names go: with it, a caller with a USD budget is refused an unpriced model (403 `model_not_priced`). */
  router?: PricingRouter;
  /** `allow_unpriced: true`: serve unpriced models to callers with a budget too (their exchanges then cost nothing). */
  allowUnpriced?: boolean;
  /** Tenant budgets from the config (`tenants:`). */
  tenantBudgets?: Record<string, TenantBudget>;
  /** Override of {@link ANY_KEYS_TTL_MS} (tests). */
  anyKeysTtlMs?: number;
}

/** Requests whose reservation was handed to an exchange (see {@link exchangeAccount}). */
const handedOver = new WeakSet<FastifyRequest>();

/** The admission checks of one server. */
export class Admission {
  private keysExist = false;
  private checkedAt = -Infinity;
  private checking: Promise<boolean> | null = null;
  private readonly ttlMs: number;

  constructor(
    readonly tenancy: TenancyStore,
    readonly limiter: RateLimiter,
    private readonly options: AdmissionOptions,
  ) {
    this.ttlMs = options.anyKeysTtlMs ?? ANY_KEYS_TTL_MS;
  }

  /**
   * Whether requests need a key now. `auto`: once the store has any key
   * (cached: "none" for {@link ANY_KEYS_TTL_MS}, "some" for good). A store
   * that cannot answer counts as "keys exist" (fail closed) and is asked again next time.
   */
  async keysRequired(): Promise<boolean> {
    if (this.options.auth !== "auto") return this.options.auth === "required";
    if (this.keysExist) return true;
    if (performance.now() - this.checkedAt < this.ttlMs) return false;
    this.checking ??= this.tenancy.keys
      .anyKeys()
      .then((exist) => {
        this.keysExist = exist;
        this.checkedAt = performance.now();
        return exist;
      })
      .catch((error: unknown) => {
        this.options.logger.error(
          { err: error },
          "cannot tell whether API keys exist; refusing requests without a key",
        );
        return true;
      })
      .finally(() => {
        this.checking = null;
      });
    return this.checking;
  }

  /**
   * The tenant of a request from its key (`plaintext`, from {@link requestApiKey}), when keys are required.
   * @throws RelayError 401 `invalid_api_key` for a missing, malformed, unknown or revoked key
   */
  async authenticate(plaintext: string | null): Promise<RequestTenant> {
    if (!(await this.keysRequired())) {
      // `auto` within the cache window after a key was made elsewhere: a valid key still names its tenant
      // (and proves keys exist). Other tokens (SDKs send one even when none is needed) are ignored.
      if (this.options.auth === "auto" && plaintext !== null && isKeyShaped(plaintext)) {
        const key = await this.tenancy.keys.verify(plaintext);
        if (key) {
          this.keysExist = true;
          return { tenantId: key.tenant, keyId: key.id, key };
        }
      }
      return { tenantId: DEFAULT_TENANT, keyId: null, key: null };
    }
    if (plaintext === null) {
      throw invalidKey(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or in an x-api-key header.",
      );
    }
    const key = await this.tenancy.keys.verify(plaintext, { includeRevoked: true });
    if (!key)
      throw invalidKey(
        `Incorrect API key provided: ${redactKey(plaintext)}. Create one with \`llm-relay keys create\`.`,
      );
    if (key.revokedAt !== null)
      throw invalidKey(`The API key ${key.prefix}… (${key.id}) was revoked at ${key.revokedAt}.`);
    return { tenantId: key.tenant, keyId: key.id, key };
  }

  /**
   * Budget left for a key in its current period (budget − ledger spend since
   * now − period, or since the key was created when it has no period), in USD
   * (whole nano-USD: exact; ≤ 0 means exhausted); null when the key has no
   * budget. One read of the ledger's running totals (`budgetSpend`), whatever its size.
   * @throws the store's error when the ledger cannot be read
   */
  async budgetRemaining(key: ApiKey, now = Date.now()): Promise<number | null> {
    if (key.budgetUsd === null) return null;
    const since = key.budgetPeriodMs === null ? key.createdAt : now - key.budgetPeriodMs;
    const spent = await this.tenancy.ledger.budgetSpend({ keyId: key.id }, since);
    return nanoUsdToUsd(usdToNanoUsd(key.budgetUsd) - spent);
  }

  /**
   * Budget left for a tenant in its current period (the config's `tenants:`
   * budget − the ledger spend of all its keys since now − period, or all
   * time without a period), in USD (whole nano-USD, as {@link budgetRemaining});
   * null when the tenant has no budget.
   * @throws the store's error when the ledger cannot be read
   */
  async tenantBudgetRemaining(tenant: string, now = Date.now()): Promise<number | null> {
    const budget = this.options.tenantBudgets?.[tenant];
    if (!budget) return null;
    const spent = await this.tenancy.ledger.budgetSpend(
      { tenant },
      budget.periodMs === null ? 0 : now - budget.periodMs,
    );
    return nanoUsdToUsd(usdToNanoUsd(budget.budgetUsd) - spent);
  }

  /**
   * For the `onResponse` hook: gives back the tokens a request reserved
   * against its key's `tpm` when no exchange took the reservation over
   * (settled at 0 tokens). Never throws; a limiter error is logged.
   */
  async releaseUnused(request: FastifyRequest): Promise<void> {
    const reservationId = request.billing?.reservationId;
    const keyId = request.tenant?.keyId;
    if (!reservationId || !keyId || handedOver.has(request)) return;
    try {
      await this.limiter.settle(keyId, { reservationId, actualTokens: 0 });
    } catch (error) {
      this.options.logger.error(
        { err: error, id: request.id, keyId },
        "cannot give back an unused rate-limit reservation",
      );
    }
  }

  /**
   * For a caller with a USD budget: refuses `model` when routing could send it to a deployment without a price
   * (unless `allowUnpriced`). A name nothing routes is left to the route's own 404.
   * @param keyBudget whether the key's own budget applies (else the tenant's)
   * @throws RelayError 403 `model_not_priced` (type `permission_error`) naming the settings to add
   */
  private refuseUnpriced(model: string, routeUrl: string, tenant: RequestTenant, keyBudget: boolean): void {
    const router = this.options.router;
    if (!router || this.options.allowUnpriced) return;
    let resolved: Route;
    try {
      resolved = router.resolve(model);
    } catch {
      return;
    }
    const use = EMBEDDING_ROUTES.has(routeUrl) ? "embedding" : "llm";
    const unpriced = firstUnpricedRoute(router.reachableRoutes(resolved), use);
    if (!unpriced) return;
    const who =
      keyBudget && tenant.key
        ? `the API key ${tenant.key.prefix}… (tenant '${tenant.tenantId}')`
        : `the tenant '${tenant.tenantId}'`;
    const settings = use === "embedding" ? "input_cost_per_mtok" : "input_cost_per_mtok and output_cost_per_mtok";
    throw errors.modelNotPriced(
      `The model '${model}' has no price (deployment '${deploymentLabel(unpriced)}', upstream model '${unpriced.upstreamModel}') and ${who} has a USD budget, so its use could not be counted against it. ` +
        `Set ${settings} (USD per million tokens; 0 for a free backend) on models.${unpriced.deploymentName} in the config, or allow_unpriced: true to serve unpriced models to budgeted callers.`,
    );
  }

  /**
   * The Fastify `preHandler` for the public API ({@link isPublicApiRoute}): sets `request.tenant` and
   * `request.billing`, or throws the refusal. The model is the route's `request.inboundModel` (set by a
   * route whose model is in its URL, e.g. Gemini's) or the body's `model`. A route is billed when it is one
   * of the OpenAI/Anthropic routes or its config says `billed: true`.
   */
  readonly preHandler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const tenant = await this.authenticate(requestApiKey(request));
    request.tenant = tenant;
    const model = request.inboundModel ?? bodyModel(request.body);
    const key = tenant.key;
    if (key?.models && model !== null && !key.models.includes(model)) throw modelNotAllowed(model, key);
    const route = request.routeOptions.url ?? "";
    const routeConfig = request.routeOptions.config as { billed?: boolean } | undefined;
    if (!BILLED_ROUTES.has(route) && routeConfig?.billed !== true) return;
    const operation = operationOf(request.headers[OPERATION_HEADER]);
    let reservationId: string | null = null;
    const tenantRemaining = await this.tenantBudgetRemaining(tenant.tenantId);
    if (tenantRemaining !== null && tenantRemaining <= 0)
      throw tenantBudgetExceeded(tenant.tenantId, this.options.tenantBudgets![tenant.tenantId]!);
    const keyRemaining = key ? await this.budgetRemaining(key) : null;
    // The header tells the tighter of the two budgets that apply.
    const remaining =
      keyRemaining === null
        ? tenantRemaining
        : tenantRemaining === null
          ? keyRemaining
          : Math.min(keyRemaining, tenantRemaining);
    if (remaining !== null) reply.header(BUDGET_HEADER, budgetHeaderUsd(remaining));
    if (key && keyRemaining !== null && keyRemaining <= 0) throw budgetExceeded(key);
    if (remaining !== null && model !== null) this.refuseUnpriced(model, route, tenant, keyRemaining !== null);
    if (key) {
      if (key.rpm !== null || key.tpm !== null) {
        const estimatedTokens = key.tpm === null ? 0 : estimateTokens(route, request.body, request.rawBody);
        const decision = await this.limiter.acquire(key.id, { rpm: key.rpm, tpm: key.tpm, estimatedTokens });
        if (!decision.allowed) throw rateLimitError(decision, { subject: `key ${key.prefix}…` });
        reply.headers(decision.headers);
        reservationId = decision.reservationId;
      }
    }
    request.billing = { ...ledgerKeyOf(request, tenant.tenantId), operation, reservationId };
  };
}

/**
 * What an exchange of this request records and books: its tenant and key,
 * and the ledger booking (null when admission did not run, e.g. outside `/v1`).
 * Hands the request's rate-limit reservation over to the exchange, whose
 * booking settles it; call it once the exchange will be enqueued.
 */
export function exchangeAccount(request: FastifyRequest): ExchangeAccount | null {
  const tenant = request.tenant;
  if (!tenant) return null;
  if (request.billing?.reservationId) handedOver.add(request);
  return { tenantId: tenant.tenantId, keyId: tenant.keyId, billing: request.billing };
}

/**
 * The ledger key of a request (namespaces in `tenancy/ledger-keys.ts`): the
 * client's `Idempotency-Key` scoped to the tenant (`idempotency:<tenant>:<key>`:
 * a retry is never booked twice), else the request id scoped to the tenant
 * (`request:<tenant>:<x-request-id>`, the proxy's `req_…` or the client's).
 * No client can write a key of either namespace through `POST /internal/usage`.
 */
function ledgerKeyOf(
  request: FastifyRequest,
  tenantId: string,
): Pick<ExchangeBilling, "ledgerKey" | "fromIdempotencyKey"> {
  const header = request.headers["idempotency-key"];
  if (typeof header === "string" && header.length > 0)
    return { ledgerKey: idempotencyLedgerKey(tenantId, header), fromIdempotencyKey: true };
  return { ledgerKey: requestLedgerKey(tenantId, request.id), fromIdempotencyKey: false };
}

/** The key of `Authorization: Bearer <key>`, or null when absent or not Bearer. */
export function bearerToken(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match ? match[1]! : null;
}

/** A key shown in a message: its first 8 characters and the last 4, like OpenAI's `sk-abc***wxyz`. */
function redactKey(plaintext: string): string {
  return plaintext.length <= 12 ? "***" : `${plaintext.slice(0, 8)}***${plaintext.slice(-4)}`;
}

/** USD as the budget header's value: a bare number, at most 6 decimals, never negative, no exponent, no `$` (e.g. `0.25`). */
export function budgetHeaderUsd(usd: number): string {
  return (
    Math.max(0, usd)
      .toFixed(6)
      .replace(/\.?0+$/, "") || "0"
  );
}

function bodyModel(body: unknown): string | null {
  const model = (body as { model?: unknown } | null | undefined)?.model;
  return typeof model === "string" ? model : null;
}

/** The request's operation; absent → `query`. @throws RelayError 400 `invalid_operation` */
function operationOf(header: string | string[] | undefined): UsageOperation {
  if (header === undefined) return "query";
  if (typeof header === "string" && (OPERATIONS as readonly string[]).includes(header)) return header as UsageOperation;
  throw errors.invalidOperation(
    `Invalid ${OPERATION_HEADER} header '${String(header)}': use one of ${OPERATIONS.join(", ")}.`,
  );
}

/**
 * Tokens a request may use, as OpenAI counts against tpm: the prompt
 * (gpt-tokenizer estimate; embeddings: their inputs) plus `max_tokens`
 * (`max_completion_tokens`). A body the route will reject counts 0. Counts
 * at most `EVENT_LOOP_COUNT_LIMIT_CHARS` (32 Ki) characters of text; a longer
 * prompt is estimated at 4 UTF-8 bytes a token (src/tokens/size-estimate.ts),
 * and the real usage settles the reservation afterwards.
 */
function estimateTokens(route: string, body: unknown, rawBody: string | null): number {
  try {
    const b = body as {
      messages?: unknown;
      input?: unknown;
      max_tokens?: unknown;
      max_completion_tokens?: unknown;
      options?: { num_predict?: unknown } | null;
      generationConfig?: { maxOutputTokens?: unknown } | null;
    };
    if (route === "/v1/embeddings") return countEmbeddingInputTokens(b.input as never).tokens;
    // On the event loop: a prompt past the limit is estimated from its size (linear, microseconds a KB), never counted.
    // Bodies of other shapes (Gemini's `contents`, Ollama's and legacy completions' `prompt`, Ollama's embed `input`)
    // are estimated from the size of their JSON text, about 4 characters a token.
    const prompt = Array.isArray(b.messages)
      ? countPromptTokens(b.messages as ChatMessage[], EVENT_LOOP_COUNT_LIMIT_CHARS)
      : rawBody !== null
        ? Math.ceil(rawBody.length / CHARS_PER_TOKEN_ESTIMATE)
        : 0;
    const max = [
      b.max_completion_tokens,
      b.max_tokens,
      b.options?.num_predict,
      b.generationConfig?.maxOutputTokens,
    ].find((value): value is number => typeof value === "number");
    return prompt + Math.max(0, Math.floor(max ?? 0));
  } catch {
    return 0;
  }
}

/** Characters of JSON text per token when a body's prompt is estimated from its size (not a chat `messages` list). */
const CHARS_PER_TOKEN_ESTIMATE = 4;

function invalidKey(message: string): RelayError {
  return errors.invalidApiKey(message);
}

function modelNotAllowed(model: string, key: ApiKey): RelayError {
  return errors.modelNotAllowed(
    `The API key ${key.prefix}… may not call the model '${model}' (allowed: ${(key.models ?? []).join(", ")}).`,
  );
}

function tenantBudgetExceeded(tenant: string, budget: TenantBudget): RelayError {
  const period = budget.periodMs === null ? "all time" : `the last ${Math.round(budget.periodMs / 3_600_000)} h`;
  return errors.budgetExceeded(`The tenant '${tenant}' has used its budget of $${budget.budgetUsd} for ${period}.`, {
    headers: { [BUDGET_HEADER]: "0" },
  });
}

function budgetExceeded(key: ApiKey): RelayError {
  const period =
    key.budgetPeriodMs === null ? "its lifetime" : `the last ${Math.round(key.budgetPeriodMs / 3_600_000)} h`;
  return errors.budgetExceeded(
    `The API key ${key.prefix}… (tenant '${key.tenant}') has used its budget of $${key.budgetUsd} for ${period}.`,
    { headers: { [BUDGET_HEADER]: "0" } },
  );
}
