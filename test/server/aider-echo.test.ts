/**
 * The canonical aider request streamed through the proxy to the built-in
 * `echo` model with the official `openai` SDK, then the database checked
 * as `llm` would read it; the continuation joins the same conversation.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aiderRequest } from "../helpers/fixtures.js";
import { rows } from "../helpers/db.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  proxy = await startTestProxy();
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "sk-test-not-a-secret", maxRetries: 0 });
});
afterAll(async () => proxy.close());

const request = aiderRequest();
const lastUser = request.messages.at(-1)!.content;

describe("canonical aider request through echo", () => {
  let answer = "";
  let conversationId = "";

  it("streams the last user message back in word chunks, ending with finish_reason stop", async () => {
    const stream = await client.chat.completions.create({ ...request, stream: true });
    const deltas: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      expect(chunk.usage ?? undefined).toBeUndefined();
    }
    answer = deltas.join("");
    expect(answer).toBe(lastUser);
    expect(deltas.length).toBeGreaterThan(10);
    expect(finish).toBe("stop");
  });

  it("records one conversation: 5 history responses, 1 live response, a turn for each", async () => {
    await proxy.server.ctx.recorder.flush();
    const conversations = rows<{ id: string; name: string; model: string }>(
      proxy.dbPath,
      "select * from conversations",
    );
    expect(conversations).toHaveLength(1);
    conversationId = conversations[0]!.id;
    expect(conversations[0]!.model).toBe("TestModelName");

    const responses = rows<Record<string, unknown>>(proxy.dbPath, "select * from responses order by id");
    expect(responses).toHaveLength(6);
    const history = responses.slice(0, 5);
    const live = responses[5]!;
    for (const row of history) {
      expect(row.input_tokens).toBe(0);
      expect(row.output_tokens).toBe(0);
      expect(row.conversation_id).toBe(conversationId);
    }
    expect(history.map((r) => r.prompt)).toEqual(
      request.messages.filter((m, i) => m.role === "user" && i < 11).map((m) => m.content),
    );
    expect(history.map((r) => r.response)).toEqual(
      request.messages.filter((m) => m.role === "assistant").map((m) => m.content),
    );
    expect(history[0]!.system).toBe(request.messages[0]!.content);
    expect(responses.slice(1).every((r) => r.system === null)).toBe(true);

    expect(live.prompt).toBe(lastUser);
    expect(live.response).toBe(answer);
    expect(live.model).toBe("TestModelName");
    expect(live.conversation_id).toBe(conversationId);
    expect(Number(live.input_tokens)).toBeGreaterThan(500);
    expect(Number(live.output_tokens)).toBeGreaterThan(50);
    expect(JSON.parse(String(live.options_json))).toEqual({ temperature: 0 });
    expect((JSON.parse(String(live.prompt_json)) as { messages: unknown[] }).messages).toHaveLength(12);

    // The history rows have turns too (same ids), so llm 0.32 shows the history, and its system prompt once, from the message store.
    const turns = rows<{ id: string; thread_id: string }>(proxy.dbPath, "select id, thread_id from turns order by id");
    expect(turns).toEqual(responses.map((r) => ({ id: r.id, thread_id: conversationId })));
    const [exchange] = rows<Record<string, unknown>>(
      proxy.dbPath,
      "select * from llm_relay_exchanges where response_id = ?",
      live.id,
    );
    expect(exchange).toMatchObject({ provider: "echo", status: "ok", http_status: 200, stream: 1 });
    // A streamed exchange has a time to first token, at most its whole duration (NULL would fail here).
    expect(exchange!.ttft_ms).toEqual(expect.any(Number));
    expect(exchange!.ttft_ms as number).toBeGreaterThanOrEqual(0);
    expect(exchange!.ttft_ms as number).toBeLessThanOrEqual(Number(live.duration_ms));
  });

  it("a continuation with the answer and a new user message joins the conversation and writes two messages", async () => {
    const before = rows<{ n: number }>(proxy.dbPath, "select count(*) as n from messages")[0]!.n;
    const followUp = "Now add a docstring to fib().";
    const completion = await client.chat.completions.create({
      ...request,
      stream: false,
      messages: [...request.messages, { role: "assistant", content: answer }, { role: "user", content: followUp }],
    });
    expect(completion.choices[0]!.message.content).toBe(followUp);
    await proxy.server.ctx.recorder.flush();

    const after = rows<{ n: number }>(proxy.dbPath, "select count(*) as n from messages")[0]!.n;
    expect(after - before).toBe(2);
    expect(rows(proxy.dbPath, "select id from conversations")).toHaveLength(1);
    const responses = rows<{ prompt: string; conversation_id: string }>(
      proxy.dbPath,
      "select prompt, conversation_id from responses order by id",
    );
    expect(responses).toHaveLength(7);
    expect(responses.at(-1)).toEqual({ prompt: followUp, conversation_id: conversationId });
    expect(rows(proxy.dbPath, "select id from turns where thread_id = ?", conversationId)).toHaveLength(7);
  });

  it("keeps every *_json column valid JSON or NULL", () => {
    const invalid = rows(
      proxy.dbPath,
      `select id from responses where (prompt_json is not null and not json_valid(prompt_json))
         or options_json is null or not json_valid(options_json)
         or (response_json is not null and not json_valid(response_json))`,
    );
    expect(invalid).toEqual([]);
  });
});
