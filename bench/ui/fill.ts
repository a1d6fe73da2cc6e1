/**
 * Fills record stores with a plan's exchanges through their own
 * `writeBatch` (the transaction, the triggers and the usage-ledger rows the
 * proxy's recorder produces), a batch at a time, with a progress bar.
 *
 * The usage ledger dates its rows with the clock (`usageRowOf`'s `Date.now()`),
 * so while a batch is written the clock reads the batch's last start time:
 * the ledger's rows spread over the plan's 90 days like the records (a
 * batch of 1,000 of 1,000,000 exchanges covers about 2 hours).
 */
import { performance } from "node:perf_hooks";
import cliProgress from "cli-progress";
import type { RecordStore } from "../../src/recording/types.js";
import { batches } from "./batches.js";
import type { PlannedRecord } from "./records.js";

/** A store being filled. */
export interface FillTarget {
  /** Shown in the progress bar and the report. */
  label: string;
  store: RecordStore;
}

/** What filling one store took. */
export interface FillResult {
  label: string;
  exchanges: number;
  /** Time inside `writeBatch`, ms. */
  writeMs: number;
  /** Exchanges per second of `writeMs`. */
  perSecond: number;
}

/** Options of {@link fill}. */
export interface FillOptions {
  /** Exchanges `records` yields (the progress bar's end). */
  total: number;
  /** Exchanges per `writeBatch` (default 1,000). */
  batchSize?: number;
  /** Show a progress bar on stderr (default true; in a log file, a line every 10 s). */
  progress?: boolean;
}

/** Runs `write` with `Date.now()` reading `atMs`. */
async function atClock(atMs: number, write: () => void | Promise<void>): Promise<void> {
  const realNow = Date.now;
  Date.now = () => atMs;
  try {
    await write();
  } finally {
    Date.now = realNow;
  }
}

/**
 * Writes `records` (in time order, see `batches`) into every target, each batch into each target in turn.
 * @throws the store's error when a batch cannot be written
 */
export async function fill(
  targets: readonly FillTarget[],
  records: Iterator<PlannedRecord>,
  options: FillOptions,
): Promise<FillResult[]> {
  const batchSize = options.batchSize ?? 1000;
  const writeMs = targets.map(() => 0);
  const bar =
    options.progress === false
      ? null
      : new cliProgress.SingleBar(
          {
            format: `fill ${targets.map((t) => t.label).join("+")} [{bar}] {percentage}% {value}/{total} exchanges, {rate} exch/s, eta {eta_formatted}`,
            stream: process.stderr,
            noTTYOutput: true,
            notTTYSchedule: 10_000,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
  const started = performance.now();
  bar?.start(options.total, 0, { rate: "-" });
  let done = 0;
  try {
    for (const batch of batches(records, batchSize)) {
      const clock = batch[batch.length - 1]!.startedAt;
      for (let i = 0; i < targets.length; i++) {
        const t0 = performance.now();
        await atClock(clock, () => targets[i]!.store.writeBatch(batch));
        writeMs[i]! += performance.now() - t0;
      }
      done += batch.length;
      bar?.update(done, { rate: Math.round(done / ((performance.now() - started) / 1000)).toLocaleString("en-US") });
      // Let timers (the SQLite store's idle checkpoint, the bar) run between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    bar?.stop();
  }
  return targets.map((t, i) => ({
    label: t.label,
    exchanges: done,
    writeMs: writeMs[i]!,
    perSecond: done / (writeMs[i]! / 1000),
  }));
}
