/**
 * The total timeout of an upstream call: it aborts a call that runs past
 * it, forwards the client's abort, and once released leaves nothing behind
 * (no timer firing later, no listener on the client's signal).
 */
import { getEventListeners } from "node:events";
import { setImmediate, setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  isTotalTimeout,
  releaseTotalTimeout,
  streamWithTotalTimeout,
  withTotalTimeout,
} from "../../src/providers/http/timeouts.js";

describe("withTotalTimeout", () => {
  it("aborts after the total time, recognisably", async () => {
    const signal = withTotalTimeout(new AbortController().signal, 30);
    await delay(80);
    expect(signal.aborted).toBe(true);
    expect(isTotalTimeout(signal)).toBe(true);
  });

  it("forwards the client's abort, which is not a total timeout", () => {
    const client = new AbortController();
    const signal = withTotalTimeout(client.signal, 10_000);
    client.abort(new Error("client disconnected"));
    expect(signal.aborted).toBe(true);
    expect(isTotalTimeout(signal)).toBe(false);
    expect((signal.reason as Error).message).toBe("client disconnected");
  });

  it("once released, never fires and no longer listens to the client's signal", async () => {
    const client = new AbortController();
    const signal = withTotalTimeout(client.signal, 30);
    expect(getEventListeners(client.signal, "abort")).toHaveLength(1);
    releaseTotalTimeout(signal);
    expect(getEventListeners(client.signal, "abort")).toHaveLength(0);
    await delay(80);
    expect(signal.aborted).toBe(false);
  });

  it("is the client's own signal when there is no total timeout", () => {
    const client = new AbortController();
    expect(withTotalTimeout(client.signal, null)).toBe(client.signal);
  });
});

describe("streamWithTotalTimeout", () => {
  /** Three numbers, each in a later turn of the event loop (as an upstream's chunks arrive). */
  async function* numbers(signal: AbortSignal): AsyncGenerator<number> {
    for (let i = 0; i < 3; i++) {
      await setImmediate();
      if (signal.aborted) throw signal.reason;
      yield i;
    }
  }

  it("releases the timer when the stream ends, and when it is abandoned", async () => {
    const client = new AbortController();
    const seen: number[] = [];
    for await (const n of streamWithTotalTimeout(client.signal, 10_000, numbers)) seen.push(n);
    expect(seen).toEqual([0, 1, 2]);
    expect(getEventListeners(client.signal, "abort")).toHaveLength(0);

    for await (const n of streamWithTotalTimeout(client.signal, 10_000, numbers)) if (n === 0) break;
    expect(getEventListeners(client.signal, "abort")).toHaveLength(0);
  });

  it("hands the run function the client's signal itself when there is no total timeout", () => {
    const client = new AbortController();
    let given: AbortSignal | null = null;
    streamWithTotalTimeout(client.signal, null, (signal) => {
      given = signal;
      return numbers(signal);
    });
    expect(given).toBe(client.signal);
  });
});
