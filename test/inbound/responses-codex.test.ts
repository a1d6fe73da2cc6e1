/**
 * Codex CLI's captured Responses requests
 * (../shared/fixtures/agents/openai-responses/) replayed through the proxy
 * byte for byte, streamed, to `echo` and to a Chat Completions upstream:
 * the events are what Codex needs (its README: `response.output_item.added`
 * before any `response.output_text.delta`, every event with its
 * `sequence_number`, the end `response.completed` carrying `usage`), and
 * the record holds the exchanges as `responses` with the body as received,
 * the tool call and its result, the two turns of the tool loop in one
 * conversation.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";
import { startChatFake, type ChatFake } from "./helpers/responses-chat-fake.js";

const FIXTURES = new URL("../../../shared/fixtures/agents/openai-responses/", import.meta.url);
const turn1Raw = fs.readFileSync(new URL("codex.turn1.request.body.json", FIXTURES), "utf8");
const turn2Raw = fs.readFileSync(new URL("codex.function-call-output-turn2.request.body.json", FIXTURES), "utf8");
const capturedHeaders = (
  JSON.parse(fs.readFileSync(new URL("codex.turn1.request.headers.json", FIXTURES), "utf8")) as {
    headers: Record<string, string>;
  }
).headers;

/** Codex's headers, without those fetch sets itself. */
const codexHeaders = Object.fromEntries(
  Object.entries(capturedHeaders).filter(([name]) => !["host", "content-length", "accept-encoding"].includes(name)),
);

/**
 * The first turn of the tool session of turn 2: the same body with the
 * input up to the user's request (what Codex sent before the model's call).
 */
function toolTurn1Raw(): string {
  const body = JSON.parse(turn2Raw) as { input: unknown[] };
  return JSON.stringify({ ...body, input: body.input.slice(0, -2) });
}

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Posts `raw` as Codex did and reads the whole event stream. */
async function replay(proxy: TestProxy, raw: string): Promise<{ requestId: string; events: SseEvent[] }> {
  const response = await fetch(`${proxy.baseURL}/responses`, { method: "POST", headers: codexHeaders, body: raw });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const text = await response.text();
  const events = text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((line) => line.startsWith("event: "))?.slice(7) ?? "";
      const data = lines.find((line) => line.startsWith("data: "))?.slice(6) ?? "null";
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
  return { requestId: response.headers.get("x-request-id")!, events };
}

/** What Codex needs of a stream (../shared/fixtures/agents/README.md). */
function expectCodexAccepts(events: readonly SseEvent[]): void {
  expect(events.length).toBeGreaterThan(3);
  events.forEach((e, i) => {
    expect(e.data.type).toBe(e.event);
    expect(e.data.sequence_number).toBe(i);
  });
  const types = events.map((e) => e.event);
  const firstAdded = types.indexOf("response.output_item.added");
  expect(firstAdded).toBeGreaterThanOrEqual(0);
  const firstDelta = types.indexOf("response.output_text.delta");
  if (firstDelta >= 0) expect(firstAdded).toBeLessThan(firstDelta);
  expect(types).toContain("response.output_item.done");
  const last = events.at(-1)!;
  expect(last.event).toBe("response.completed");
  const usage = (last.data.response as { usage: Record<string, unknown> }).usage;
  expect(usage).toMatchObject({
    input_tokens: expect.any(Number) as number,
    output_tokens: expect.any(Number) as number,
    total_tokens: expect.any(Number) as number,
  });
  expect(Number(usage.input_tokens)).toBeGreaterThan(0);
}

interface ExchangeRow {
  id: string;
  conversation_id: string;
  prompt_json: string;
  protocol: string;
  status: string;
}

async function recordOf(proxy: TestProxy, requestId: string): Promise<ExchangeRow> {
  const find = () =>
    rows<ExchangeRow>(
      proxy.dbPath,
      `select r.id, r.conversation_id, r.prompt_json, e.protocol, e.status
       from responses r join llm_relay_exchanges e on e.response_id = r.id where e.request_id = ?`,
      requestId,
    );
  await until(`the record of ${requestId}`, async () => {
    await proxy.server.ctx.recorder.flush();
    return find().length === 1;
  });
  return find()[0]!;
}

describe("Codex through the proxy to echo", () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startTestProxy();
  });
  afterAll(async () => proxy.close());

  it("streams both captured turns as Codex needs them and records them as responses exchanges", async () => {
    const one = await replay(proxy, turn1Raw);
    expectCodexAccepts(one.events);
    const done = one.events.at(-1)!.data.response as { output: { type: string; content: { text: string }[] }[] };
    expect(done.output[0]!.content[0]!.text).toBe("say hi");

    const two = await replay(proxy, turn2Raw);
    expectCodexAccepts(two.events);

    const first = await recordOf(proxy, one.requestId);
    const second = await recordOf(proxy, two.requestId);
    for (const [record, raw] of [
      [first, turn1Raw],
      [second, turn2Raw],
    ] as const) {
      expect(record.protocol).toBe("responses");
      expect(record.status).toBe("ok");
      expect(JSON.parse(record.prompt_json)).toEqual(JSON.parse(raw));
    }
    const results = rows<{ name: string; output: string; tool_call_id: string }>(
      proxy.dbPath,
      "select name, output, tool_call_id from tool_results where response_id = ?",
      second.id,
    );
    expect(results).toEqual([
      { name: "exec_command", output: expect.stringContaining("tool-ran") as string, tool_call_id: "call_stub1" },
    ]);
  });
});

describe("Codex through the proxy to a chat upstream", () => {
  let proxy: TestProxy;
  let fake: ChatFake;
  beforeAll(async () => {
    fake = await startChatFake();
    // Codex names the model `echo`: here it routes to the chat upstream.
    proxy = await startTestProxy({ models: { echo: fakeDeployment(fake.baseUrl) } });
  });
  afterAll(async () => {
    await proxy.close();
    await fake.close();
  });

  it("runs the tool loop: the call streamed as a function_call, the result turn in the same conversation", async () => {
    fake.answer(
      { toolCalls: [{ id: "call_stub1", name: "exec_command", arguments: '{"cmd":"echo tool-ran"}' }] },
      { text: "The command printed tool-ran." },
    );
    const turn1 = toolTurn1Raw();
    const one = await replay(proxy, turn1);
    expectCodexAccepts(one.events);
    const types = one.events.map((e) => e.event);
    expect(types).toContain("response.function_call_arguments.delta");
    const call = (one.events.at(-1)!.data.response as { output: Record<string, unknown>[] }).output[0]!;
    expect(call).toMatchObject({
      type: "function_call",
      call_id: "call_stub1",
      name: "exec_command",
      arguments: '{"cmd":"echo tool-ran"}',
    });

    const sent = fake.requests[0]!;
    const toolNames = (sent.tools as { function: { name: string } }[]).map((t) => t.function.name);
    expect(toolNames).toContain("exec_command");
    expect(toolNames).toContain("multi_agent_v1__close_agent");
    expect(JSON.stringify(sent.tools)).not.toContain("web_search");
    expect((sent.messages as { role: string }[]).map((m) => m.role)).toEqual(["system", "system", "user", "user"]);

    const two = await replay(proxy, turn2Raw);
    expectCodexAccepts(two.events);
    const text = two.events
      .filter((e) => e.event === "response.output_text.delta")
      .map((e) => e.data.delta)
      .join("");
    expect(text).toBe("The command printed tool-ran.");
    expect((fake.requests[1]!.messages as { role: string }[]).map((m) => m.role)).toEqual([
      "system",
      "system",
      "user",
      "user",
      "assistant",
      "tool",
    ]);

    const first = await recordOf(proxy, one.requestId);
    const second = await recordOf(proxy, two.requestId);
    expect(JSON.parse(first.prompt_json)).toEqual(JSON.parse(turn1));
    expect(JSON.parse(second.prompt_json)).toEqual(JSON.parse(turn2Raw));
    expect([first.protocol, second.protocol]).toEqual(["responses", "responses"]);
    expect(second.conversation_id).toBe(first.conversation_id);
    const live = rows<{ conversation_id: string }>(
      proxy.dbPath,
      "select distinct r.conversation_id from responses r join llm_relay_exchanges e on e.response_id = r.id",
    );
    expect(live).toHaveLength(1);
    expect(
      rows(proxy.dbPath, "select name, arguments, tool_call_id from tool_calls where response_id = ?", first.id),
    ).toEqual([{ name: "exec_command", arguments: '{"cmd": "echo tool-ran"}', tool_call_id: "call_stub1" }]);
    expect(
      rows<{ tool_call_id: string }>(
        proxy.dbPath,
        "select tool_call_id from tool_results where response_id = ?",
        second.id,
      ),
    ).toEqual([{ tool_call_id: "call_stub1" }]);
  });
});
