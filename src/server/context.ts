/** What every route handler needs, created once per server. */
import type { Logger } from "pino";
import type { RelayConfig } from "../config/load.js";
import type { ProviderRegistry } from "../providers/registry.js";
import type { Recorder } from "../recording/recorder.js";
import type { RecordStore } from "../recording/types.js";
import type { Router } from "../routing/router.js";
import type { InFlight } from "./in-flight.js";
import type { RelayMetrics } from "../metrics/relay-metrics.js";
import type { TenancyStore } from "../tenancy/store.js";
import type { ExchangeBilling } from "../recording/types.js";
import type { Admission, RequestTenant } from "./admission.js";
import type { RateLimiter } from "../ratelimit/index.js";
import type { UsageBooking } from "./usage-booking.js";
import type { BrowseStore } from "../browse/types.js";

/** Shared state of one running proxy. */
export interface ServerContext {
  config: RelayConfig;
  router: Router;
  providers: ProviderRegistry;
  store: RecordStore;
  recorder: Recorder;
  logger: Logger;
  inFlight: InFlight;
  metrics: RelayMetrics;
  /** API keys, usage ledger and `Idempotency-Key` records, on the records' database (PostgreSQL with `databaseUrl`, else the SQLite logs.db). */
  tenancy: TenancyStore;
  /** Per-key rpm/tpm limits: in Redis with `redisUrl`, else in memory. */
  limiter: RateLimiter;
  /** Keys, budgets and limits of `/v1/*` requests (the preHandler). */
  admission: Admission;
  /** Writes the usage ledger and settles rate-limit reservations from the recorder's hooks. */
  booking: UsageBooking;
  /** Server start, ms since the epoch (the `created` of `/v1/models`). */
  startedAt: number;
  /** The records' read model for the conversation browser at `/ui`, or null/absent when the UI is off (`ui: false`). */
  browse?: BrowseStore | null;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set once the request's log line was written (the chat route writes its own). */
    relayLogged: boolean;
    /** Who the request is for (API key → tenant; `default`, null key without keys); set by admission on `/v1/*` and `/internal/*`, else null. */
    tenant: RequestTenant | null;
    /** How the usage ledger books the request's exchange; set by admission on billed routes, else null. */
    billing: ExchangeBilling | null;
    /** The body as the client sent it, for `application/json` requests (so it can go upstream without being serialised again); else null. */
    rawBody: string | null;
    /**
     * The model a request names outside its body (Gemini's URL path), set by the route before admission
     * (a `preValidation` hook) so key model restrictions and budgets see it; else null (admission reads `body.model`).
     */
    inboundModel: string | null;
  }
  interface FastifyContextConfig {
    /** The route books usage and reserves rate-limit tokens (admission); OpenAI's and Anthropic's routes are billed without it. */
    billed?: boolean;
  }
}
