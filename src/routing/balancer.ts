/**
 * Picks one of a model's deployments for an attempt, by the model's
 * strategy, leaving out deployments in cooldown:
 *
 * - `simple-shuffle`: weighted random by `weight`. Draws come from a
 *   shuffled deck holding each deployment in proportion to its weight
 *   (weights 1/2/3 make a deck of 6 cards), reshuffled when used up: the
 *   order is random, and the shares match the weights over every deck
 *   rather than only on average.
 * - `least-busy`: the fewest requests in flight; ties broken at random.
 * - `latency-based`: a deployment not tried yet first (at random), else
 *   the lowest moving average of time to first token.
 *
 * A model with one deployment costs nothing here: index 0, no allocation.
 */
import type { Deployment, ModelGroup } from "../config/schema.js";
import type { DeploymentHealth } from "./deployment-health.js";

/** Largest deck built for `simple-shuffle`; finer weight ratios are rounded to it. */
const MAX_DECK = 1000;

/** What an attempt must avoid, besides deployments in cooldown. */
export interface PickConstraints {
  /** Deployments this request already tried: others are preferred while any is usable. */
  tried?: ReadonlySet<Deployment> | null;
  /** Deployments this request must not use (an upstream asked to wait longer than `retry_max_ms`). */
  blocked?: ReadonlySet<Deployment> | null;
}

/** A shuffled deck of deployment indices. */
interface Deck {
  cards: number[];
  next: number;
}

/** Chooses deployments; one per router (it keeps the `simple-shuffle` decks). */
export class Balancer {
  private readonly decks = new Map<ModelGroup, Deck>();

  /**
   * @param health in-flight counts, TTFT averages and cooldowns of the deployments
   * @param random a source of uniform numbers in [0, 1)
   */
  constructor(
    private readonly health: DeploymentHealth,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * The index (in `group.deployments`) of the deployment for the next attempt.
   * Deployments in cooldown are left out; when every usable one is cooling
   * down, the one whose cooldown ends first is taken rather than none.
   * Deployments this request already tried are taken only when no other is left.
   * @param now `performance.now()`, in ms
   * @returns the index, or -1 when every deployment is blocked for this request
   */
  pick(group: ModelGroup, now: number, constraints: PickConstraints = {}): number {
    const list = group.deployments;
    const { tried, blocked } = constraints;
    if (list.length === 1) return blocked?.has(list[0]!) ? -1 : 0;
    const open: number[] = [];
    let usable: number[] = [];
    for (let i = 0; i < list.length; i++) {
      const deployment = list[i]!;
      if (blocked?.has(deployment)) continue;
      open.push(i);
      if (!this.health.isCooling(deployment, now)) usable.push(i);
    }
    if (open.length === 0) return -1;
    if (usable.length === 0) return this.soonestOutOfCooldown(list, preferUntried(open, list, tried));
    usable = preferUntried(usable, list, tried);
    if (usable.length === 1) return usable[0]!;
    switch (group.strategy) {
      case "least-busy":
        return this.lowest(usable, (i) => this.health.inFlight(list[i]!));
      case "latency-based": {
        const untried = usable.filter((i) => this.health.ttftMs(list[i]!) === null);
        if (untried.length > 0) return untried[Math.floor(this.random() * untried.length)]!;
        return this.lowest(usable, (i) => this.health.ttftMs(list[i]!)!);
      }
      default:
        return usable.length === list.length ? this.draw(group) : this.weighted(list, usable);
    }
  }

  /** Of candidates that are all cooling down, the one whose cooldown ends first. */
  private soonestOutOfCooldown(list: readonly Deployment[], candidates: readonly number[]): number {
    let soonest = candidates[0]!;
    for (const i of candidates)
      if (this.health.cooldownEnd(list[i]!) < this.health.cooldownEnd(list[soonest]!)) soonest = i;
    return soonest;
  }

  /** The candidate with the lowest score; ties broken at random. */
  private lowest(candidates: readonly number[], score: (index: number) => number): number {
    let best: number[] = [];
    let bestScore = Infinity;
    for (const i of candidates) {
      const s = score(i);
      if (s < bestScore) {
        bestScore = s;
        best = [i];
      } else if (s === bestScore) best.push(i);
    }
    return best[Math.floor(this.random() * best.length)]!;
  }

  /** Weighted random among some of the deployments (when others are cooling down or already tried). */
  private weighted(list: readonly Deployment[], candidates: readonly number[]): number {
    let total = 0;
    for (const i of candidates) total += list[i]!.weight;
    let r = this.random() * total;
    for (const i of candidates) {
      r -= list[i]!.weight;
      if (r < 0) return i;
    }
    return candidates[candidates.length - 1]!;
  }

  /** The next card of the group's deck, reshuffling it when used up. */
  private draw(group: ModelGroup): number {
    let deck = this.decks.get(group);
    if (!deck) {
      deck = { cards: deckCards(group.deployments.map((d) => d.weight)), next: Infinity };
      this.decks.set(group, deck);
    }
    if (deck.next >= deck.cards.length) {
      shuffle(deck.cards, this.random);
      deck.next = 0;
    }
    return deck.cards[deck.next++]!;
  }
}

/** The candidates this request has not tried yet, when there are any; else all of them. */
function preferUntried(
  candidates: number[],
  list: readonly Deployment[],
  tried: ReadonlySet<Deployment> | null | undefined,
): number[] {
  if (!tried || tried.size === 0) return candidates;
  const fresh = candidates.filter((i) => !tried.has(list[i]!));
  return fresh.length > 0 ? fresh : candidates;
}

/**
 * The cards of a deck for `weights`: index i appears in proportion to
 * `weights[i]`, in the smallest whole numbers that keep the ratios (to
 * 1/1000 of a weight), or rounded to {@link MAX_DECK} cards in all.
 */
export function deckCards(weights: readonly number[]): number[] {
  const scaled = weights.map((w) => Math.max(1, Math.round(w * 1000)));
  const divisor = scaled.reduce(gcd);
  let counts = scaled.map((s) => s / divisor);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total > MAX_DECK) counts = scaled.map((s) => Math.max(1, Math.round((s / (total * divisor)) * MAX_DECK)));
  const cards: number[] = [];
  counts.forEach((count, index) => {
    for (let c = 0; c < count; c++) cards.push(index);
  });
  return cards;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Fisher–Yates shuffle in place. */
function shuffle(cards: number[], random: () => number): void {
  for (let i = cards.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [cards[i], cards[j]] = [cards[j]!, cards[i]!];
  }
}
