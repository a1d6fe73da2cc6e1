/**
 * Cuts the time-ordered records into `writeBatch` batches of a fixed size,
 * holding back an exchange whose conversation already has an exchange with
 * reasoning in the batch: it starts the next batch instead.
 *
 * Why: `PgStore.writeBatch` analyses every record of a batch before writing
 * any, so a reply with reasoning written in the same batch is not yet known
 * as the alias of the reasoning-less copy the next request re-sends, and
 * that request starts a new conversation with history rows. A proxy's
 * batches span ≤ 50 ms, so two turns of one conversation rarely share one;
 * the bench's batches span hours of the plan's traffic.
 */
import type { BenchRecord, PlannedRecord } from "./records.js";

/** Yields batches of at most `size` records, in time order but for the held-back ones. */
export function* batches(source: Iterator<PlannedRecord>, size: number): Generator<BenchRecord[]> {
  let held: PlannedRecord[] = [];
  let exhausted = false;
  while (!exhausted || held.length > 0) {
    const batch: BenchRecord[] = [];
    const reasoned = new Set<number>();
    const nextHeld: PlannedRecord[] = [];
    const take = (item: PlannedRecord): void => {
      if (reasoned.has(item.conversation)) {
        nextHeld.push(item);
        return;
      }
      batch.push(item.record);
      if (item.record.reasoning != null) reasoned.add(item.conversation);
    };
    for (const item of held) {
      if (batch.length < size) take(item);
      else nextHeld.push(item);
    }
    while (batch.length < size && !exhausted) {
      const next = source.next();
      if (next.done) exhausted = true;
      else take(next.value);
    }
    held = nextHeld;
    if (batch.length > 0) yield batch;
  }
}
