/**
 * Hostile bodies on `POST /v1/messages` and `/v1/messages/count_tokens`
 * (issue 18's fuzz item; seeded, FUZZ_SEED=<n> replays a run): any JSON,
 * and Messages-shaped bodies whose every field, turn and content block may
 * be of the wrong type, out of range or of an unknown kind. Each answer is a
 * 200 (a message, or an event stream ending in `message_stop`) or a 4xx in
 * Anthropic's error shape — never a 5xx, never a dropped connection — and
 * the server answers a normal request afterwards.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const RUNS = 200;

let proxy: TestProxy;
beforeAll(async () => {
  proxy = await startTestProxy();
});
afterAll(async () => {
  await proxy.close();
});

/** Any JSON value, or a value of the expected kind. */
const anyOr = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 3, arbitrary: arb }, fc.jsonValue());

const text = fc.string({ maxLength: 40 });
const source = fc.oneof(
  fc.record({ type: fc.constant("base64"), media_type: anyOr(fc.constant("image/png")), data: anyOr(text) }),
  fc.record(
    {
      type: fc.constantFrom("url", "file", "text", "content"),
      url: anyOr(text),
      file_id: anyOr(text),
      data: anyOr(text),
    },
    { requiredKeys: ["type"] },
  ),
  fc.jsonValue(),
);
const innerBlock = fc.oneof(
  fc.record({ type: fc.constant("text"), text: anyOr(text) }, { requiredKeys: ["type"] }),
  fc.record({ type: fc.constant("image"), source }, { requiredKeys: ["type"] }),
  fc.record({ type: fc.constant("document"), source, title: anyOr(text) }, { requiredKeys: ["type"] }),
);
const block = fc.oneof(
  innerBlock,
  fc.record(
    {
      type: fc.constant("tool_use"),
      id: anyOr(text),
      name: anyOr(text),
      input: anyOr(fc.dictionary(text, fc.jsonValue())),
    },
    { requiredKeys: ["type"] },
  ),
  fc.record(
    {
      type: fc.constant("tool_result"),
      tool_use_id: anyOr(text),
      content: anyOr(fc.oneof(text, fc.array(innerBlock, { maxLength: 3 }))),
      is_error: anyOr(fc.boolean()),
    },
    { requiredKeys: ["type"] },
  ),
  fc.record(
    { type: fc.constant("thinking"), thinking: anyOr(text), signature: anyOr(text) },
    { requiredKeys: ["type"] },
  ),
  fc.record(
    { type: fc.constantFrom("redacted_thinking", "server_tool_use", ""), data: anyOr(text) },
    { requiredKeys: ["type"] },
  ),
  fc.jsonValue(),
);
const turn = fc.record(
  {
    role: anyOr(fc.constantFrom("user", "assistant", "system")),
    content: anyOr(fc.oneof(text, fc.array(block, { maxLength: 4 }))),
  },
  { requiredKeys: [] },
);
/** A body of the right shape (contents still arbitrary: any text, unknown block types, odd schemas). */
const validBlock = fc.oneof(
  fc.record({ type: fc.constant("text"), text }),
  fc.record({
    type: fc.constant("image"),
    source: fc.record({ type: fc.constant("url"), url: text.filter((t) => t !== "") }),
  }),
  fc.record({
    type: fc.constant("tool_use"),
    id: fc.constant("toolu_1"),
    name: fc.constant("f"),
    input: fc.dictionary(text, fc.jsonValue()),
  }),
  fc.record({
    type: fc.constant("tool_result"),
    tool_use_id: fc.constant("toolu_1"),
    content: fc.oneof(text, fc.array(fc.record({ type: fc.constant("text"), text }), { maxLength: 2 })),
    is_error: fc.boolean(),
  }),
  fc.record({ type: fc.constant("thinking"), thinking: text, signature: text }),
  fc.record({ type: fc.constantFrom("redacted_thinking", "server_tool_use", "container_upload"), data: text }),
);
const validBody = fc.record(
  {
    model: fc.constantFrom("echo", "claude-opus-4-8"),
    max_tokens: fc.integer({ min: 1, max: 100_000 }),
    messages: fc.array(
      fc.record({
        role: fc.constantFrom("user", "assistant", "system"),
        content: fc.oneof(text, fc.array(validBlock, { maxLength: 4 })),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    system: fc.oneof(text, fc.array(fc.record({ type: fc.constant("text"), text }), { maxLength: 2 })),
    stream: fc.boolean(),
    stop_sequences: fc.array(text, { maxLength: 2 }),
    tools: fc.array(fc.record({ name: text.filter((t) => t !== ""), input_schema: fc.constant({ type: "object" }) }), {
      maxLength: 2,
    }),
    tool_choice: fc.record({ type: fc.constantFrom("auto", "any", "none") }),
    unknown_field: fc.jsonValue(),
  },
  { requiredKeys: ["model", "max_tokens", "messages"] },
);

const body = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue() },
  { weight: 4, arbitrary: validBody },
  {
    weight: 6,
    arbitrary: fc.record(
      {
        model: anyOr(fc.constant("echo")),
        max_tokens: anyOr(fc.integer({ min: -5, max: 100_000 })),
        messages: anyOr(fc.array(turn, { maxLength: 4 })),
        system: anyOr(
          fc.oneof(text, fc.array(fc.record({ type: fc.constant("text"), text: anyOr(text) }), { maxLength: 2 })),
        ),
        stream: anyOr(fc.boolean()),
        stop_sequences: anyOr(fc.array(text, { maxLength: 2 })),
        temperature: anyOr(fc.double()),
        tools: anyOr(
          fc.array(
            fc.record(
              { name: anyOr(text), input_schema: anyOr(fc.constant({ type: "object" })), type: anyOr(text) },
              { requiredKeys: [] },
            ),
            {
              maxLength: 2,
            },
          ),
        ),
        tool_choice: anyOr(
          fc.record(
            { type: fc.constantFrom("auto", "any", "tool", "none", "x"), name: anyOr(text) },
            { requiredKeys: [] },
          ),
        ),
        metadata: anyOr(fc.record({ user_id: anyOr(text) }, { requiredKeys: [] })),
        thinking: anyOr(fc.record({ type: fc.constantFrom("enabled", "adaptive"), budget_tokens: fc.integer() })),
      },
      { requiredKeys: [] },
    ),
  },
);

/** What is wrong with an answer, or null. */
async function problemOf(response: Response, counting: boolean): Promise<string | null> {
  const answer = await response.text();
  if (response.status >= 500) return `${response.status}: ${answer.slice(0, 300)}`;
  if (response.status >= 400) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer);
    } catch {
      return `a ${response.status} that is not JSON: ${answer.slice(0, 200)}`;
    }
    const error = (parsed as { type?: unknown; error?: { type?: unknown; message?: unknown } }).error;
    const shaped =
      (parsed as { type?: unknown }).type === "error" &&
      typeof error?.type === "string" &&
      typeof error.message === "string" &&
      Object.keys(parsed as object).every((key) => key === "type" || key === "error");
    return shaped ? null : `a ${response.status} not in Anthropic's shape: ${answer.slice(0, 200)}`;
  }
  if (response.status !== 200) return `status ${response.status}`;
  if (counting) return /^\{"input_tokens":\d+\}$/.test(answer) ? null : `count_tokens answered ${answer}`;
  if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream"))
    return answer.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')
      ? null
      : `a stream cut short: ${answer.slice(-200)}`;
  const message = JSON.parse(answer) as { type?: unknown };
  return message.type === "message" ? null : `a 200 that is not a message: ${answer.slice(0, 200)}`;
}

describe("hostile bodies on /v1/messages", () => {
  it(`are answered 200 or an Anthropic-shaped 4xx, never a 5xx (seed ${SEED})`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (payload, counting) => {
        const response = await fetch(`${proxy.url}/v1/messages${counting ? "/count_tokens" : "?beta=true"}`, {
          method: "POST",
          headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
          body: JSON.stringify(payload),
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const problem = await problemOf(response, counting);
        expect(problem, JSON.stringify(payload).slice(0, 500)).toBeNull();
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // Both paths were exercised: bodies refused and bodies answered.
    expect(statuses.get(400) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(RUNS / 10);
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(RUNS / 20);
    const response = await fetch(`${proxy.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "echo", max_tokens: 10, messages: [{ role: "user", content: "still here" }] }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { content: unknown }).content).toEqual([{ type: "text", text: "still here" }]);
  }, 120_000);
});
