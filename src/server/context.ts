/** What every route handler needs, created once per server. */
import type { Logger } from "pino";
import type { RelayConfig } from "../config/load.js";
import type { ProviderRegistry } from "../providers/registry.js";
import type { Recorder } from "../recording/recorder.js";
import type { RecordStore } from "../recording/types.js";
import type { Router } from "../routing/router.js";
import type { InFlight } from "./in-flight.js";
import type { RelayMetrics } from "../metrics/relay-metrics.js";

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
  /** Server start, ms since the epoch (the `created` of `/v1/models`). */
  startedAt: number;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set once the request's log line was written (the chat route writes its own). */
    relayLogged: boolean;
  }
}
