/**
 * Closed-loop load generator for the proxy benchmark (undici `Pool`).
 *
 * `--concurrency C` workers each send the next request as soon as the
 * previous one is fully read, for `--warmup S` seconds (not measured)
 * then `--duration S` seconds (measured: requests started in that window).
 * Per request: TTFB = time until the first body bytes arrive (headers
 * included), total = time until the body is fully read, both in ms from
 * `performance.now()`. Errors: a status other than 200, or an exception.
 *
 * Prints one JSON line: the measured figures and counts for the whole
 * run including the warm-up (`all.completed` is every response read to its
 * end, whatever its status, which is what the proxy records).
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { aiderBody, smallBody } from "./bodies.js";

export interface LoadResult {
  url: string;
  stream: boolean;
  concurrency: number;
  /** Measured window, s (requests started in it; the last ones may end a little after). */
  durationS: number;
  /** Requests started in the measured window and finished (ok or not). */
  requests: number;
  /** Of those: non-200 statuses and exceptions. */
  errors: number;
  rps: number;
  p50TotalMs: number;
  p99TotalMs: number;
  p50TtfbMs: number;
  p99TtfbMs: number;
  meanTotalMs: number;
  /** CPU time this load generator process used from its start to its end (user + system), ms. */
  cpuMs: number;
  /** Whole run, warm-up included. */
  all: {
    sent: number;
    /** Responses read to their end (any status). */
    completed: number;
    non200: number;
    exceptions: number;
    warmupRequests: number;
    firstError?: string;
  };
}

/** Nearest-rank percentile of a sorted array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1]!;
}

function cpuMsNow(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      concurrency: { type: "string", default: "1" },
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "1" },
      stream: { type: "boolean", default: false },
      body: { type: "string", default: "small" },
    },
  });
  if (!values.url) throw new Error("--url http://127.0.0.1:PORT is required");
  const origin = new URL(values.url);
  if (origin.hostname !== "127.0.0.1") throw new Error("loadgen only talks to 127.0.0.1");
  const concurrency = Number(values.concurrency);
  const durationS = Number(values.duration);
  const warmupS = Number(values.warmup);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error("bad --concurrency");
  if (!(durationS > 0 && durationS <= 30)) throw new Error("--duration must be in (0, 30]");
  if (!(warmupS >= 0 && warmupS <= 10)) throw new Error("--warmup must be in [0, 10]");
  const stream = values.stream;
  if (values.body !== "small" && values.body !== "aider") throw new Error("--body small|aider");
  const payload = Buffer.from(values.body === "aider" ? aiderBody(stream) : smallBody(stream));
  const path = "/v1/chat/completions";
  const headers = {
    "content-type": "application/json",
    "content-length": String(payload.length),
    accept: stream ? "text/event-stream" : "application/json",
  };

  // Whatever happens, this process ends: duration + warm-up + 30 s at most.
  const hardStop = setTimeout(
    () => {
      process.stderr.write("loadgen: hard time limit reached\n");
      process.exit(3);
    },
    (durationS + warmupS + 30) * 1000,
  );
  hardStop.unref();

  const pool = new Pool(origin.origin, {
    connections: concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: 20_000,
    bodyTimeout: 20_000,
    connect: { timeout: 5_000 },
  });

  const totals: number[] = [];
  const ttfbs: number[] = [];
  let measuredErrors = 0;
  const all: LoadResult["all"] = { sent: 0, completed: 0, non200: 0, exceptions: 0, warmupRequests: 0 };
  const t0 = performance.now();
  const measureStart = t0 + warmupS * 1000;
  const measureEnd = measureStart + durationS * 1000;
  let lastMeasuredEnd = measureStart;

  async function worker(): Promise<void> {
    for (;;) {
      const start = performance.now();
      if (start >= measureEnd) return;
      const measured = start >= measureStart;
      if (!measured) all.warmupRequests += 1;
      all.sent += 1;
      let ttfb = Number.NaN;
      let ok = false;
      try {
        const res = await pool.request({ path, method: "POST", headers, body: payload });
        // Read to the end; the first piece's arrival is the time to first byte.
        const pieces = res.body[Symbol.asyncIterator]();
        for (let next = await pieces.next(); !next.done; next = await pieces.next()) {
          if (Number.isNaN(ttfb)) ttfb = performance.now() - start;
        }
        all.completed += 1;
        if (res.statusCode === 200) ok = true;
        else {
          all.non200 += 1;
          all.firstError ??= `HTTP ${res.statusCode}`;
        }
      } catch (error) {
        all.exceptions += 1;
        all.firstError ??= (error as Error).message;
      }
      const end = performance.now();
      if (measured) {
        if (ok) {
          totals.push(end - start);
          ttfbs.push(Number.isNaN(ttfb) ? end - start : ttfb);
        } else measuredErrors += 1;
        if (end > lastMeasuredEnd) lastMeasuredEnd = end;
      }
    }
  }

  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  await pool.close();

  const requests = totals.length + measuredErrors;
  const elapsedS = Math.max(lastMeasuredEnd - measureStart, durationS * 1000) / 1000;
  const sortedTotals = Float64Array.from(totals).sort();
  const sortedTtfbs = Float64Array.from(ttfbs).sort();
  const result: LoadResult = {
    url: origin.origin,
    stream,
    concurrency,
    durationS: elapsedS,
    requests,
    errors: measuredErrors,
    rps: totals.length / elapsedS,
    p50TotalMs: percentile(sortedTotals, 0.5),
    p99TotalMs: percentile(sortedTotals, 0.99),
    p50TtfbMs: percentile(sortedTtfbs, 0.5),
    p99TtfbMs: percentile(sortedTtfbs, 0.99),
    meanTotalMs: totals.reduce((a, b) => a + b, 0) / Math.max(1, totals.length),
    cpuMs: cpuMsNow(),
    all,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  clearTimeout(hardStop);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`loadgen: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
