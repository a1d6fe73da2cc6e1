/**
 * A deployment's health: failures counted within `fail_window_ms`, the
 * `allowed_fails`-th starting a cooldown of `cooldown_ms`, in-flight
 * counts and the TTFT moving average.
 */
import { describe, expect, it } from "vitest";
import { deploymentDefaults } from "../../src/config/schema.js";
import { DeploymentHealth, TTFT_EWMA_ALPHA } from "../../src/routing/deployment-health.js";

const d = deploymentDefaults("echo");

describe("DeploymentHealth", () => {
  it("starts a cooldown at the allowed_fails-th failure within the window, and ends it after cooldown_ms", () => {
    const health = new DeploymentHealth({ allowed_fails: 3, fail_window_ms: 1_000, cooldown_ms: 500 });
    expect(health.recordFailure(d, 0)).toBe(false);
    expect(health.recordFailure(d, 100)).toBe(false);
    expect(health.isCooling(d, 150)).toBe(false);
    expect(health.recordFailure(d, 200)).toBe(true);
    expect(health.isCooling(d, 201)).toBe(true);
    expect(health.cooldownEnd(d)).toBe(700);
    expect(health.isCooling(d, 700)).toBe(false);
  });

  it("forgets failures older than fail_window_ms", () => {
    const health = new DeploymentHealth({ allowed_fails: 2, fail_window_ms: 1_000, cooldown_ms: 500 });
    health.recordFailure(d, 0);
    expect(health.recordFailure(d, 1_500)).toBe(false);
    expect(health.isCooling(d, 1_501)).toBe(false);
    expect(health.recordFailure(d, 1_600)).toBe(true);
  });

  it("never cools down with cooldown_ms 0", () => {
    const health = new DeploymentHealth({ allowed_fails: 1, fail_window_ms: 1_000, cooldown_ms: 0 });
    expect(health.recordFailure(d, 0)).toBe(false);
    expect(health.isCooling(d, 0)).toBe(false);
  });

  it("counts requests in flight, never below zero", () => {
    const health = new DeploymentHealth({ allowed_fails: 1, fail_window_ms: 1_000, cooldown_ms: 0 });
    health.begin(d);
    health.begin(d);
    expect(health.inFlight(d)).toBe(2);
    health.end(d);
    health.end(d);
    health.end(d);
    expect(health.inFlight(d)).toBe(0);
  });

  it("averages the time to first token, the newest sample weighing TTFT_EWMA_ALPHA", () => {
    const health = new DeploymentHealth({ allowed_fails: 1, fail_window_ms: 1_000, cooldown_ms: 0 });
    expect(health.ttftMs(d)).toBeNull();
    health.observeTtft(d, 100);
    expect(health.ttftMs(d)).toBe(100);
    health.observeTtft(d, 200);
    expect(health.ttftMs(d)).toBeCloseTo(100 * (1 - TTFT_EWMA_ALPHA) + 200 * TTFT_EWMA_ALPHA);
  });
});
