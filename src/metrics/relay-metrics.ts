/**
 * Prometheus metrics (prom-client), served at `GET /metrics` in the
 * Prometheus text exposition format
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). Exchanges
 * are observed by the recorder's batch, off the request path. The `model`
 * label takes only routable names (`model-label.ts`), and the process's
 * own metrics keep prom-client's standard names (`process_cpu_seconds_total`,
 * `nodejs_heap_size_total_bytes`, …: https://github.com/siimon/prom-client#default-metrics),
 * so existing Node.js dashboards read them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ExchangeSummary } from "../recording/record-writer.js";
import { modelLabel } from "./model-label.js";

/** Buckets for request duration and TTFT, in seconds (10 ms … 2 min). */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Buckets for proxy overhead, in seconds (50 µs … 100 ms). */
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

/** Live values the gauges read at scrape time. */
export interface GaugeSources {
  inFlight(): number;
  recorderQueued(): number;
}

/** Options of {@link RelayMetrics}. */
export interface RelayMetricsOptions {
  /**
   * The model names the `model` label may take (`routableModelNames`); every other name is `other`.
   * Absent: every name is `other`.
   */
  modelNames?: ReadonlySet<string>;
}

/** The proxy's metrics, on a registry of their own. */
export class RelayMetrics {
  readonly registry = new Registry();
  private readonly duration: Histogram<"model" | "provider">;
  private readonly ttft: Histogram<"model" | "provider">;
  private readonly overhead: Histogram<"model" | "provider">;
  private readonly requests: Counter<"route" | "status">;
  private readonly exchanges: Counter<"provider" | "outcome">;
  private readonly upstreamErrors: Counter<"provider" | "class">;
  private readonly dbWriteFailures: Counter;
  private readonly modelNames: ReadonlySet<string>;

  constructor(sources: GaugeSources, options: RelayMetricsOptions = {}) {
    const registers = [this.registry];
    this.modelNames = options.modelNames ?? new Set();
    // No prefix: the standard names (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`, …).
    collectDefaultMetrics({ register: this.registry });
    this.duration = new Histogram({
      name: "llm_relay_request_duration_seconds",
      help: "Chat-completion duration, request received to last byte sent.",
      labelNames: ["model", "provider"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.ttft = new Histogram({
      name: "llm_relay_ttft_seconds",
      help: "Time to first token of streamed chat completions.",
      labelNames: ["model", "provider"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.overhead = new Histogram({
      name: "llm_relay_overhead_seconds",
      help: "Time spent in the proxy itself, excluding waits on the upstream and the client.",
      labelNames: ["model", "provider"],
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.requests = new Counter({
      name: "llm_relay_requests_total",
      help: "HTTP requests answered, by route and status.",
      labelNames: ["route", "status"],
      registers,
    });
    this.exchanges = new Counter({
      name: "llm_relay_exchanges_total",
      help: "Chat-completion exchanges by outcome (ok, error, cancelled, truncated).",
      labelNames: ["provider", "outcome"],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: "llm_relay_upstream_errors_total",
      help: "Upstream failures by class.",
      labelNames: ["provider", "class"],
      registers,
    });
    this.dbWriteFailures = new Counter({
      name: "llm_relay_db_write_failures_total",
      help: "Exchanges that could not be written to the database.",
      registers,
    });
    new Gauge({
      name: "llm_relay_in_flight_requests",
      help: "Chat-completion exchanges in progress.",
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    });
    new Gauge({
      name: "llm_relay_recorder_queue_depth",
      help: "Exchanges waiting to be written.",
      registers,
      collect() {
        this.set(sources.recorderQueued());
      },
    });
  }

  /** Counts one answered HTTP request. */
  countRequest(route: string, status: number): void {
    this.requests.inc({ route, status: String(status) });
  }

  /** Observes one finished exchange (called by the recorder). */
  observeExchange(record: ExchangeSummary): void {
    const errorClass = record.errorClass;
    // Names are client-chosen: only routable ones get their own label value, the rest share `other`.
    const labels = {
      model: modelLabel(this.modelNames, record.requestedModel, record.deployment),
      provider: record.provider ?? "none",
    };
    this.duration.observe(labels, record.durationMs / 1000);
    if (record.ttftMs !== null) this.ttft.observe(labels, record.ttftMs / 1000);
    if (record.overheadMs !== null) this.overhead.observe(labels, record.overheadMs / 1000);
    this.exchanges.inc({ provider: labels.provider, outcome: record.status });
    if (errorClass && errorClass.startsWith("upstream"))
      this.upstreamErrors.inc({ provider: labels.provider, class: errorClass });
  }

  /** Counts exchanges lost to database write failures. */
  countDbWriteFailures(n: number): void {
    this.dbWriteFailures.inc(n);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
