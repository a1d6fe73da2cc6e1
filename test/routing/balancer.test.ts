/**
 * The balancer's choices, with the deployments' health set by hand and a
 * seeded random source: weighted shares of `simple-shuffle`, `least-busy`
 * and `latency-based` ordering, cooldown (left out; when all cool down,
 * the one whose cooldown ends first), deployments blocked or already
 * tried by the request.
 */
import { describe, expect, it } from "vitest";
import { deploymentDefaults, type Deployment, type ModelGroup, type RoutingStrategy } from "../../src/config/schema.js";
import { Balancer, deckCards } from "../../src/routing/balancer.js";
import { DeploymentHealth } from "../../src/routing/deployment-health.js";

/** A deterministic uniform source (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function deployment(weight = 1): Deployment {
  return { ...deploymentDefaults("openai-compatible"), base_url: "http://127.0.0.1:1/v1", weight };
}

function group(strategy: RoutingStrategy, deployments: Deployment[]): ModelGroup {
  return { name: "m", deployments, strategy, fallbacks: [], contextWindowFallbacks: [], numRetries: 0 };
}

function setup(strategy: RoutingStrategy, deployments: Deployment[], seed = 1) {
  const health = new DeploymentHealth({ allowed_fails: 1, fail_window_ms: 60_000, cooldown_ms: 1_000 });
  return { health, balancer: new Balancer(health, seeded(seed)), group: group(strategy, deployments) };
}

/** How often each index is picked in `n` picks. */
function tally(pick: () => number, n: number, size: number): number[] {
  const counts = Array.from({ length: size }, () => 0);
  for (let i = 0; i < n; i++) counts[pick()]! += 1;
  return counts;
}

describe("simple-shuffle", () => {
  it("keeps the weights exactly over every deck, in a random order", () => {
    const { balancer, group: g } = setup("simple-shuffle", [deployment(1), deployment(2), deployment(3)]);
    const picks = Array.from({ length: 60 }, () => balancer.pick(g, 0));
    for (let deck = 0; deck < 10; deck++) {
      const slice = picks.slice(deck * 6, deck * 6 + 6);
      expect([0, 1, 2].map((i) => slice.filter((p) => p === i).length)).toEqual([1, 2, 3]);
    }
    // Not one fixed order: the decks differ.
    const orders = new Set(Array.from({ length: 10 }, (_, deck) => picks.slice(deck * 6, deck * 6 + 6).join("")));
    expect(orders.size).toBeGreaterThan(1);
  });

  it("makes small decks from weight ratios, and caps odd ratios at 1000 cards", () => {
    expect(deckCards([1, 2, 3])).toEqual([0, 1, 1, 2, 2, 2]);
    expect(deckCards([0.5, 1.5])).toEqual([0, 1, 1, 1]);
    expect(deckCards([2, 2])).toEqual([0, 1]);
    const odd = deckCards([1, 1.001, 997]);
    expect(odd.length).toBeLessThanOrEqual(1001);
    expect(odd.filter((c) => c === 0).length).toBeGreaterThanOrEqual(1);
  });

  it("weights the remaining deployments when one is cooling down", () => {
    const deployments = [deployment(1), deployment(1), deployment(3)];
    const { health, balancer, group: g } = setup("simple-shuffle", deployments);
    health.recordFailure(deployments[0]!, 0);
    const counts = tally(() => balancer.pick(g, 10), 4_000, 3);
    expect(counts[0]).toBe(0);
    expect(counts[2]! / (counts[1]! + counts[2]!)).toBeCloseTo(0.75, 1);
  });
});

describe("least-busy", () => {
  it("picks the deployment with the fewest requests in flight, ties at random", () => {
    const deployments = [deployment(), deployment(), deployment()];
    const { health, balancer, group: g } = setup("least-busy", deployments);
    health.begin(deployments[0]!);
    health.begin(deployments[0]!);
    health.begin(deployments[1]!);
    expect(tally(() => balancer.pick(g, 0), 50, 3)).toEqual([0, 0, 50]);
    health.begin(deployments[2]!);
    const tied = tally(() => balancer.pick(g, 0), 200, 3);
    expect(tied[0]).toBe(0);
    expect(tied[1]).toBeGreaterThan(50);
    expect(tied[2]).toBeGreaterThan(50);
    health.end(deployments[0]!);
    health.end(deployments[0]!);
    expect(balancer.pick(g, 0)).toBe(0);
  });
});

describe("latency-based", () => {
  it("tries untried deployments first, then the lowest TTFT average", () => {
    const deployments = [deployment(), deployment(), deployment()];
    const { health, balancer, group: g } = setup("latency-based", deployments);
    health.observeTtft(deployments[0]!, 50);
    health.observeTtft(deployments[2]!, 10);
    expect(balancer.pick(g, 0)).toBe(1);
    health.observeTtft(deployments[1]!, 200);
    expect(tally(() => balancer.pick(g, 0), 20, 3)).toEqual([0, 0, 20]);
    // The average moves: deployment 3 slows down, deployment 1 wins.
    for (let i = 0; i < 10; i++) health.observeTtft(deployments[2]!, 400);
    expect(balancer.pick(g, 0)).toBe(0);
  });
});

describe("cooldown, blocked and tried deployments", () => {
  it("uses the deployment whose cooldown ends first when all are cooling down", () => {
    const deployments = [deployment(), deployment()];
    const { health, balancer, group: g } = setup("simple-shuffle", deployments);
    health.recordFailure(deployments[1]!, 0);
    health.recordFailure(deployments[0]!, 100);
    expect(balancer.pick(g, 200)).toBe(1); // its cooldown ends at 1000, the other's at 1100
    expect(balancer.pick(g, 1_050)).toBe(1); // out of cooldown
    health.recordFailure(deployments[1]!, 1_050); // cooling again, until 2050
    expect(balancer.pick(g, 1_060)).toBe(0);
  });

  it("prefers a deployment the request has not tried, cooling or not", () => {
    const deployments = [deployment(), deployment(), deployment()];
    const { health, balancer, group: g } = setup("simple-shuffle", deployments);
    expect(tally(() => balancer.pick(g, 0, { tried: new Set([deployments[0]!, deployments[1]!]) }), 20, 3)).toEqual([
      0, 0, 20,
    ]);
    for (const d of deployments) health.recordFailure(d, 0);
    expect(balancer.pick(g, 10, { tried: new Set([deployments[0]!, deployments[2]!]) })).toBe(1);
    // All tried: any usable one.
    expect(balancer.pick(g, 5_000, { tried: new Set(deployments) })).toBeGreaterThanOrEqual(0);
  });

  it("never picks a blocked deployment; -1 when all are blocked", () => {
    const deployments = [deployment(), deployment()];
    const { balancer, group: g } = setup("least-busy", deployments);
    expect(tally(() => balancer.pick(g, 0, { blocked: new Set([deployments[0]!]) }), 20, 2)).toEqual([0, 20]);
    expect(balancer.pick(g, 0, { blocked: new Set(deployments) })).toBe(-1);
    const single = group("simple-shuffle", [deployments[0]!]);
    expect(balancer.pick(single, 0)).toBe(0);
    expect(balancer.pick(single, 0, { blocked: new Set([deployments[0]!]) })).toBe(-1);
  });

  it("keeps a model's only deployment even while it cools down", () => {
    const only = deployment();
    const { health, balancer } = setup("simple-shuffle", [only]);
    health.recordFailure(only, 0);
    expect(health.isCooling(only, 10)).toBe(true);
    expect(balancer.pick(group("simple-shuffle", [only]), 10)).toBe(0);
  });
});
