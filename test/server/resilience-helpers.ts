/**
 * Helpers of the resilience and balancing tests: model groups built in
 * code, the attempts recorded in `llm_relay_attempts`, the routing
 * headers, and a plain-text table of attempts.
 */
import { expect } from "vitest";
import { DEFAULT_ROUTING, type Deployment, type ModelGroup, type RoutingSettings } from "../../src/config/schema.js";
import { rows } from "../helpers/db.js";
import type { TestProxy } from "../helpers/proxy.js";

/** A model with several deployments (or one) and its routing keys, as `deployments:` in the config file gives it. */
export function group(
  name: string,
  deployments: Deployment[],
  extra: Partial<Omit<ModelGroup, "name" | "deployments">> = {},
): ModelGroup {
  return {
    name,
    deployments,
    strategy: "simple-shuffle",
    fallbacks: [],
    contextWindowFallbacks: [],
    numRetries: 0,
    ...extra,
  };
}

/** Router settings for tests: the defaults with `overrides`. */
export function routing(overrides: Partial<RoutingSettings>): RoutingSettings {
  return { ...DEFAULT_ROUTING, ...overrides };
}

/** One row of `llm_relay_attempts`, with the request id of its exchange. */
export interface AttemptRow {
  request_id: string;
  attempt: number;
  model: string;
  deployment: string;
  provider: string;
  upstream_model: string;
  status: string;
  http_status: number | null;
  started_ms: number;
  duration_ms: number;
  error: string | null;
}

const ATTEMPTS_SQL = `SELECT e.request_id, a.attempt, a.model, a.deployment, a.provider, a.upstream_model, a.status,
       a.http_status, a.started_ms, a.duration_ms, a.error
  FROM llm_relay_attempts a JOIN llm_relay_exchanges e ON e.response_id = a.response_id`;

/** The attempts recorded for the exchange with `x-request-id: requestId`, in order (flushes the recorder first). */
export async function recordedAttempts(proxy: TestProxy, requestId: string): Promise<AttemptRow[]> {
  await proxy.server.ctx.recorder.flush();
  return rows<AttemptRow>(proxy.dbPath, `${ATTEMPTS_SQL} WHERE e.request_id = ? ORDER BY a.attempt`, requestId);
}

/** Every attempt in the database at `dbPath`, by exchange then attempt. */
export function allAttempts(dbPath: string): AttemptRow[] {
  return rows<AttemptRow>(dbPath, `${ATTEMPTS_SQL} ORDER BY a.response_id, a.attempt`);
}

/** The `attempts` count column of the exchange with `requestId`. */
export function attemptsColumn(dbPath: string, requestId: string): number | null {
  const [row] = rows<{ attempts: number | null }>(
    dbPath,
    "SELECT attempts FROM llm_relay_exchanges WHERE request_id = ?",
    requestId,
  );
  expect(row, `no exchange ${requestId}`).toBeDefined();
  return row!.attempts;
}

/** The routing headers of an answer. */
export function routingHeaders(headers: Headers): { deployment: string | null; attempts: string | null } {
  return { deployment: headers.get("x-llm-relay-deployment"), attempts: headers.get("x-llm-relay-attempts") };
}

/** The gap between the end of attempt `a` and the start of attempt `b`, in ms (the wait before `b`). */
export function gapMs(a: AttemptRow, b: AttemptRow): number {
  return b.started_ms - (a.started_ms + a.duration_ms);
}

/** Attempts as an aligned plain-text table (for the printed report of a run). */
export function attemptsTable(attempts: readonly AttemptRow[]): string {
  const header = ["request", "#", "model", "deployment", "upstream_model", "status", "http", "start ms", "ms", "error"];
  const body = attempts.map((a) => [
    a.request_id,
    String(a.attempt),
    a.model,
    a.deployment,
    a.upstream_model,
    a.status,
    a.http_status === null ? "-" : String(a.http_status),
    a.started_ms.toFixed(1),
    a.duration_ms.toFixed(1),
    (a.error ?? "").slice(0, 100),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
