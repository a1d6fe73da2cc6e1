/**
 * The shape of the synthetic store before any text exists: how many
 * exchanges each conversation has, when each exchange starts, and the order
 * in which all of them are written (by start time, so ids — ULIDs of those
 * times — grow as a proxy's would).
 *
 * Lengths: one conversation of exactly 10 exchanges (all `ok`, marked with
 * {@link TEN_TURN_MARKER} in its first prompt), one longest conversation
 * (marked with {@link LONGEST_MARKER}), the rest `1 + geometric` around the
 * mean the counts give (10 for 1,000,000 in 100,000), adjusted to the exact total.
 * Times: each conversation starts at a uniform time in the span and its
 * turns follow 15 s to 6 min apart.
 */
import { intIn, mix, seeded } from "./random.js";

/** Put into the first prompt of the 10-exchange conversation, so the bench can find it by search. */
export const TEN_TURN_MARKER = "benchmarkertenturns";
/** Put into the first prompt of the longest conversation. */
export const LONGEST_MARKER = "benchmarkerlongest";
/** Index of the 10-exchange conversation. */
export const TEN_TURN_INDEX = 0;
/** Index of the longest conversation. */
export const LONGEST_INDEX = 1;

/** Options of {@link makePlan}. */
export interface PlanOptions {
  exchanges: number;
  conversations: number;
  /** Seed of every draw. */
  seed: number;
  /** The newest exchange starts before this instant (ms since the epoch). */
  endMs: number;
  /** Exchanges start within `[endMs - spanMs, endMs)`, in ms. */
  spanMs: number;
}

/** Every exchange of the store, in the order they are written. */
export interface Plan {
  /** Exchanges per conversation. */
  lengths: Uint32Array;
  /** Start of each exchange (ms), indexed by event. */
  times: Float64Array;
  /** Conversation of each event. */
  conversation: Uint32Array;
  /** Position of each event in its conversation (0-based). */
  turn: Uint32Array;
  /** Event indexes sorted by start time. */
  order: Uint32Array;
  /** Exchanges of the longest conversation. */
  longest: number;
}

/**
 * Plans `exchanges` exchanges in `conversations` conversations.
 * @throws Error when the counts cannot hold the two marked conversations (fewer than 3 conversations, or fewer than 2 exchanges per conversation on average)
 */
export function makePlan(options: PlanOptions): Plan {
  const { exchanges: total, conversations: count } = options;
  if (count < 3 || total < count * 2) {
    throw new Error(`need at least 3 conversations and 2 exchanges per conversation (got ${total} in ${count})`);
  }
  const random = seeded(mix(options.seed, 1));
  const mean = total / count;
  const longest = Math.min(total - 10 - (count - 2), Math.max(20, Math.round(mean * 20)));
  const lengths = new Uint32Array(count);
  lengths[TEN_TURN_INDEX] = 10;
  lengths[LONGEST_INDEX] = longest;
  const restMean = (total - 10 - longest) / (count - 2);
  const p = 1 / restMean;
  let sum = 10 + longest;
  for (let c = 2; c < count; c++) {
    const draw = p >= 1 ? 1 : 1 + Math.floor(Math.log(1 - random()) / Math.log(1 - p));
    lengths[c] = Math.min(longest - 1, draw);
    sum += lengths[c]!;
  }
  // Nudge random conversations until the total is exact.
  while (sum !== total) {
    const c = intIn(random, 2, count - 1);
    if (sum < total && lengths[c]! < longest - 1) {
      lengths[c]!++;
      sum++;
    } else if (sum > total && lengths[c]! > 1) {
      lengths[c]!--;
      sum--;
    }
  }

  const times = new Float64Array(total);
  const conversation = new Uint32Array(total);
  const turn = new Uint32Array(total);
  let event = 0;
  for (let c = 0; c < count; c++) {
    const n = lengths[c]!;
    const gaps: number[] = [0];
    let duration = 0;
    for (let t = 1; t < n; t++) {
      // 15 s to 6 min, most of them short (a person reading and typing).
      const gap = Math.round(15_000 * Math.pow(24, random()));
      gaps.push(gap);
      duration += gap;
    }
    const latest = Math.max(options.endMs - options.spanMs, options.endMs - duration - 60_000);
    const start = options.endMs - options.spanMs + Math.floor(random() * (latest - (options.endMs - options.spanMs)));
    let at = start;
    for (let t = 0; t < n; t++, event++) {
      at += gaps[t]!;
      times[event] = at;
      conversation[event] = c;
      turn[event] = t;
    }
  }
  const order = Uint32Array.from({ length: total }, (_, i) => i).sort((a, b) => times[a]! - times[b]! || a - b);
  return { lengths, times, conversation, turn, order, longest };
}
