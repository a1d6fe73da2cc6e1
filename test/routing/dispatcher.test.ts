/**
 * The dispatcher's state machine on fake providers (plain objects
 * implementing ChatProvider, scripted per deployment) with an injected
 * timing: the waits it asks for are recorded and resolved at once, so no
 * test sleeps. Covers retries on 429/5xx/timeout/connection errors,
 * Retry-After (seconds, HTTP-date, too long), fallbacks in order,
 * context_window_fallbacks on 400 context_length_exceeded, no retry once
 * the answer has begun, and aborts during a wait and during an attempt.
 */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_ROUTING,
  deploymentDefaults,
  type Deployment,
  type ModelGroup,
  type RoutingSettings,
} from "../../src/config/schema.js";
import { RelayError, type ErrorClass } from "../../src/protocol/errors.js";
import { upstreamErrorCode } from "../../src/protocol/error-codes.js";
import type { ChatProvider, ProviderCall, ProviderCompletion, ProviderStreamEvent } from "../../src/providers/types.js";
import type { AttemptRecord } from "../../src/recording/types.js";
import { dispatch, type DispatchState, type DispatchTiming } from "../../src/routing/dispatcher.js";
import { Router } from "../../src/routing/router.js";

/** The step of a call that never answers (until its signal aborts). */
const HANG = Symbol("hang");

/** One scripted answer of a fake provider: a completion's content, the error it fails with, or {@link HANG}. */
type Step = string | RelayError | typeof HANG;

/** A ChatProvider whose `complete` answers each call with the next step of its script. */
class ScriptedProvider implements ChatProvider {
  readonly kind = "scripted";
  calls = 0;
  constructor(private readonly script: Step[]) {}

  complete(call: ProviderCall): Promise<ProviderCompletion> {
    const step = this.script[this.calls++];
    if (step === undefined) throw new Error(`unexpected call ${this.calls}`);
    if (step === HANG) {
      return new Promise((_, reject) =>
        call.signal.addEventListener("abort", () => reject(call.signal.reason as Error), { once: true }),
      );
    }
    if (step instanceof RelayError) return Promise.reject(step);
    const body = {
      id: "c1",
      object: "chat.completion",
      created: 0,
      model: call.body.model,
      choices: [{ index: 0, message: { role: "assistant", content: step }, finish_reason: "stop" }],
    };
    return Promise.resolve({ rawBody: JSON.stringify(body) });
  }

  stream(): AsyncIterable<ProviderStreamEvent> {
    throw new Error("not used");
  }
}

function upstreamError(
  status: number,
  errorClass: ErrorClass = "upstream_http",
  extra: { code?: string; headers?: Record<string, string> } = {},
): RelayError {
  const { code, headers } = extra;
  return new RelayError({
    status,
    message: `upstream ${status}`,
    errorClass,
    headers,
    code: code === undefined ? undefined : upstreamErrorCode(code),
  });
}

const tooLong = () => upstreamError(400, "upstream_http", { code: "context_length_exceeded" });

function deployment(name: string): Deployment {
  return { ...deploymentDefaults("openai-compatible"), base_url: `http://${name}.test/v1` };
}

function group(name: string, deployments: Deployment[], extra: Partial<ModelGroup> = {}): ModelGroup {
  return {
    name,
    deployments,
    strategy: DEFAULT_ROUTING.strategy,
    fallbacks: [],
    contextWindowFallbacks: [],
    numRetries: 0,
    ...extra,
  };
}

/** A dispatcher setup: models with their deployments' scripted providers, and a timing that records the waits. */
function setup(
  models: Record<string, ModelGroup>,
  scripts: Map<Deployment, Step[]>,
  options: { routing?: Partial<RoutingSettings>; now?: number } = {},
) {
  const providers = new Map<Deployment, ScriptedProvider>([...scripts].map(([d, s]) => [d, new ScriptedProvider(s)]));
  const router = new Router({
    models,
    aliases: {},
    defaultModel: null,
    routing: { ...DEFAULT_ROUTING, ...options.routing },
  });
  const waits: number[] = [];
  const timing: DispatchTiming = {
    sleep: (ms, signal) => {
      waits.push(ms);
      return signal.aborted ? Promise.reject(signal.reason as Error) : Promise.resolve();
    },
    now: () => options.now ?? 1_700_000_000_000,
    random: () => 0.5,
  };
  const deps = {
    router,
    providers: { get: (d: Deployment) => providers.get(d) ?? new ScriptedProvider([]) },
    timing,
  };
  return { deps, providers, waits };
}

/** Dispatches one non-streaming exchange for `model`; gives what it resolved with (or threw) and the attempts and states seen. */
async function run(
  deps: ReturnType<typeof setup>["deps"],
  model: string,
  signal: AbortSignal = new AbortController().signal,
) {
  const attempts: AttemptRecord[] = [];
  const states: DispatchState<ProviderCompletion>["kind"][] = [];
  const request = {
    model,
    signal,
    clock: { wait: <T>(p: Promise<T>) => p, elapsedMs: () => 0 },
    attempts,
    onAttempt: () => undefined,
    run: (target: { provider: ChatProvider; route: { upstreamModel: string } }) =>
      target.provider.complete({
        body: { model: target.route.upstreamModel, messages: [{ role: "user", content: "hi" }] },
        signal,
        requestId: "r1",
      }),
  };
  try {
    const dispatched = await dispatch(deps, request, (state) => states.push(state.kind));
    dispatched.finish();
    return { answer: dispatched, error: null, attempts, states };
  } catch (error) {
    return { answer: null, error, attempts, states };
  }
}

describe("dispatch: retries", () => {
  it("retries on 429, 5xx, a timeout and a connection error, with full-jitter backoff between attempts", async () => {
    const d = deployment("a");
    const script: Step[] = [
      upstreamError(429),
      upstreamError(503),
      upstreamError(504, "upstream_timeout"),
      upstreamError(502, "upstream_unreachable"),
      "hello",
    ];
    const { deps, waits } = setup({ a: group("a", [d], { numRetries: 4 }) }, new Map([[d, script]]), {
      routing: { retry_base_ms: 100, retry_max_ms: 10_000 },
    });
    const result = await run(deps, "a");
    expect(result.error).toBeNull();
    expect(result.answer?.target.model).toBe("a");
    expect(result.attempts.map((a) => [a.status, a.httpStatus])).toEqual([
      ["error", 429],
      ["error", 503],
      ["timeout", null],
      ["unreachable", null],
      ["ok", 200],
    ]);
    // random() = 0.5 of a ceiling of 100·2^n ms.
    expect(waits).toEqual([50, 100, 200, 400]);
    expect(result.states).toEqual([
      "try-deployment",
      "try-deployment",
      "wait-before-retry",
      "try-deployment",
      "try-deployment",
      "wait-before-retry",
      "try-deployment",
      "try-deployment",
      "wait-before-retry",
      "try-deployment",
      "try-deployment",
      "wait-before-retry",
      "try-deployment",
      "done",
    ]);
  });

  it("answers the last error once the retries are spent (1 + num_retries attempts)", async () => {
    const d = deployment("a");
    const { deps, providers } = setup(
      { a: group("a", [d], { numRetries: 2 }) },
      new Map([[d, [upstreamError(500), upstreamError(502), upstreamError(503)]]]),
    );
    const result = await run(deps, "a");
    expect(result.error).toBeInstanceOf(RelayError);
    expect((result.error as RelayError).status).toBe(503);
    expect(providers.get(d)!.calls).toBe(3);
    expect(result.states.at(-1)).toBe("failed");
  });

  it("does not retry a client error (400) and answers it at once", async () => {
    const d = deployment("a");
    const { deps, waits } = setup(
      { a: group("a", [d], { numRetries: 3, fallbacks: ["b"] }), b: group("b", [deployment("b")]) },
      new Map([[d, [upstreamError(400)]]]),
    );
    const result = await run(deps, "a");
    expect((result.error as RelayError).status).toBe(400);
    expect(result.attempts).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("answers 404 model_not_found for an unknown model without an attempt", async () => {
    const { deps } = setup({}, new Map());
    const result = await run(deps, "nowhere");
    expect((result.error as RelayError).code).toBe("model_not_found");
    expect(result.attempts).toEqual([]);
  });
});

describe("dispatch: Retry-After", () => {
  it("waits the upstream's Retry-After seconds before trying the same deployment again", async () => {
    const d = deployment("a");
    const { deps, waits } = setup(
      { a: group("a", [d], { numRetries: 1 }) },
      new Map([[d, [upstreamError(429, "upstream_http", { headers: { "retry-after": "3" } }), "ok"]]]),
    );
    const result = await run(deps, "a");
    expect(result.error).toBeNull();
    expect(waits).toEqual([3000]);
  });

  it("reads an HTTP-date Retry-After against the injected clock", async () => {
    const d = deployment("a");
    const now = Date.parse("Sat, 05 Dec 2026 16:00:00 GMT");
    const headers = { "retry-after": "Sat, 05 Dec 2026 16:00:07 GMT" };
    const { deps, waits } = setup(
      { a: group("a", [d], { numRetries: 1 }) },
      new Map([[d, [upstreamError(503, "upstream_http", { headers }), "ok"]]]),
      { now },
    );
    await run(deps, "a");
    expect(waits).toEqual([7000]);
  });

  it("leaves out a deployment whose Retry-After exceeds retry_max_ms and goes on to the fallback at once", async () => {
    const d = deployment("a");
    const f = deployment("f");
    const models = { a: group("a", [d], { numRetries: 3, fallbacks: ["f"] }), f: group("f", [f]) };
    const { deps, waits, providers } = setup(
      models,
      new Map([
        [d, [upstreamError(429, "upstream_http", { headers: { "retry-after": "60" } })]],
        [f, ["from f"]],
      ]),
      {
        routing: { retry_max_ms: 5000 },
      },
    );
    const result = await run(deps, "a");
    expect(result.answer?.target.model).toBe("f");
    expect(providers.get(d)!.calls).toBe(1);
    expect(waits).toEqual([]);
  });
});

describe("dispatch: Retry-After too long, no fallback", () => {
  it("answers the upstream's 429 when the only deployment is left out", async () => {
    const d = deployment("a");
    const { deps, waits, providers } = setup(
      { a: group("a", [d], { numRetries: 3 }) },
      new Map([[d, [upstreamError(429, "upstream_http", { headers: { "retry-after": "60" } })]]]),
      {
        routing: { retry_max_ms: 5000 },
      },
    );
    const result = await run(deps, "a");
    expect((result.error as RelayError).status).toBe(429);
    expect(providers.get(d)!.calls).toBe(1);
    expect(waits).toEqual([]);
  });
});

describe("dispatch: fallbacks", () => {
  it("tries the fallbacks in order, skipping a name that resolves to nothing", async () => {
    const [a, b, c] = [deployment("a"), deployment("b"), deployment("c")];
    const models = { a: group("a", [a], { fallbacks: ["missing", "b", "c"] }), b: group("b", [b]), c: group("c", [c]) };
    const { deps } = setup(
      models,
      new Map([
        [a, [upstreamError(500)]],
        [b, [upstreamError(429)]],
        [c, ["from c"]],
      ]),
    );
    const result = await run(deps, "a");
    expect(result.answer?.target.model).toBe("c");
    expect(result.attempts.map((x) => [x.model, x.status])).toEqual([
      ["a", "error"],
      ["b", "error"],
      ["c", "ok"],
    ]);
    expect(result.states).toEqual([
      "try-deployment",
      "next-fallback",
      "try-deployment",
      "next-fallback",
      "try-deployment",
      "done",
    ]);
  });

  it("answers the last fallback's error when every model failed", async () => {
    const [a, b] = [deployment("a"), deployment("b")];
    const { deps } = setup(
      { a: group("a", [a], { fallbacks: ["b"] }), b: group("b", [b]) },
      new Map([
        [a, [upstreamError(500)]],
        [b, [upstreamError(502, "upstream_unreachable")]],
      ]),
    );
    const result = await run(deps, "a");
    expect((result.error as RelayError).errorClass).toBe("upstream_unreachable");
    expect(result.states.at(-1)).toBe("failed");
  });

  it("on 400 context_length_exceeded goes to context_window_fallbacks, not the fallbacks", async () => {
    const [a, f, big, bigger] = [deployment("a"), deployment("f"), deployment("big"), deployment("bigger")];
    const models = {
      a: group("a", [a], { numRetries: 2, fallbacks: ["f"], contextWindowFallbacks: ["big", "bigger"] }),
      f: group("f", [f]),
      big: group("big", [big]),
      bigger: group("bigger", [bigger]),
    };
    const { deps, providers } = setup(
      models,
      new Map([
        [a, [tooLong()]],
        [big, [tooLong()]],
        [bigger, ["fits"]],
        [f, ["wrong"]],
      ]),
    );
    const result = await run(deps, "a");
    expect(result.answer?.target.model).toBe("bigger");
    expect(result.attempts.map((x) => x.model)).toEqual(["a", "big", "bigger"]);
    expect(providers.get(f)!.calls).toBe(0);
    expect(result.states).toEqual([
      "try-deployment",
      "context-window-fallback",
      "next-fallback",
      "try-deployment",
      "next-fallback",
      "try-deployment",
      "done",
    ]);
  });

  it("answers 400 context_length_exceeded at once when the model has no context_window_fallbacks", async () => {
    const [a, f] = [deployment("a"), deployment("f")];
    const { deps, providers } = setup(
      { a: group("a", [a], { numRetries: 2, fallbacks: ["f"] }), f: group("f", [f]) },
      new Map([
        [a, [tooLong()]],
        [f, ["wrong"]],
      ]),
    );
    const result = await run(deps, "a");
    expect((result.error as RelayError).code).toBe("context_length_exceeded");
    expect(providers.get(f)!.calls).toBe(0);
    expect(result.attempts).toHaveLength(1);
  });
});

describe("dispatch: once the answer has begun", () => {
  it("makes no further attempt when the answer breaks after its start; finish records the failure", async () => {
    const d = deployment("a");
    const { deps, providers } = setup({ a: group("a", [d], { numRetries: 3 }) }, new Map([[d, ["start"]]]));
    const attempts: AttemptRecord[] = [];
    const signal = new AbortController().signal;
    const dispatched = await dispatch(deps, {
      model: "a",
      signal,
      clock: { wait: (p) => p, elapsedMs: () => 0 },
      attempts,
      onAttempt: () => undefined,
      run: (target) => target.provider.complete({ body: { model: "a", messages: [] }, signal, requestId: "r1" }),
    });
    // The stream the caller pumps breaks now: the dispatcher is done, the break is the attempt's end.
    dispatched.finish(upstreamError(502, "upstream_unreachable"));
    dispatched.finish();
    expect(providers.get(d)!.calls).toBe(1);
    expect(attempts.map((a) => [a.status, a.error])).toEqual([["unreachable", "upstream 502"]]);
  });
});

describe("dispatch: abort", () => {
  it("an abort during the wait before a retry ends the exchange with its reason and makes no other attempt", async () => {
    const d = deployment("a");
    const { deps, providers } = setup(
      { a: group("a", [d], { numRetries: 3 }) },
      new Map([[d, [upstreamError(503), "never"]]]),
    );
    const controller = new AbortController();
    const waited: number[] = [];
    deps.timing.sleep = (ms, signal) => {
      waited.push(ms);
      const pending = new Promise<void>((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true }),
      );
      controller.abort(new Error("client disconnected"));
      return pending;
    };
    const result = await run(deps, "a", controller.signal);
    expect((result.error as Error).message).toBe("client disconnected");
    expect(waited).toHaveLength(1);
    expect(providers.get(d)!.calls).toBe(1);
    expect(result.states.at(-1)).toBe("wait-before-retry");
  });

  it("an abort during an attempt records it cancelled and makes no other attempt", async () => {
    const d = deployment("a");
    const { deps, providers } = setup(
      { a: group("a", [d], { numRetries: 3 }) },
      new Map<Deployment, Step[]>([[d, [HANG, "never"]]]),
    );
    const controller = new AbortController();
    const pending = run(deps, "a", controller.signal);
    controller.abort(new Error("Timed out after 50 ms"));
    const result = await pending;
    expect((result.error as Error).message).toBe("Timed out after 50 ms");
    expect(result.attempts.map((a) => [a.status, a.error])).toEqual([["cancelled", "Timed out after 50 ms"]]);
    expect(providers.get(d)!.calls).toBe(1);
  });
});
