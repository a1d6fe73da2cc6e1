/**
 * What ollama-js 0.6.4 really sends (the captures of
 * /work/shared/fixtures/agents/ollama-native/, replayed byte for byte with
 * their headers through the proxy) gets answers the client accepted in the
 * captures' shape, and every generation is recorded like any exchange:
 * protocol `ollama`, the body as received as `prompt_json`, the answer in
 * `responses` with its usage; embeddings in `llm_relay_embeddings`; a tool
 * conversation continued by the client threads into one conversation.
 */
import fs from "node:fs";
import { Ollama, type Message } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { startFakeEmbeddings, TOKENS_PER_INPUT, type FakeEmbeddings } from "../helpers/fake-embeddings.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { startChatScriptUpstream, type ChatScriptUpstream } from "./helpers/chat-script-upstream.js";

const CAPTURES = new URL("../../../shared/fixtures/agents/ollama-native/", import.meta.url);

/** One captured request of ollama-js and the answer it accepted. */
interface Capture {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  /** The accepted answer's body text. */
  accepted: string;
}

function capture(name: string): Capture {
  const read = (suffix: string) => fs.readFileSync(new URL(`ollama-js.${name}.${suffix}`, CAPTURES));
  const meta = JSON.parse(read("request.headers.json").toString("utf8")) as Omit<Capture, "body" | "accepted">;
  const acceptedFile = fs
    .readdirSync(CAPTURES)
    .find((file) => file.startsWith(`ollama-js.${name}.accepted-response.`) && !file.endsWith(".txt"))!;
  return {
    ...meta,
    body: read("request.body.json"),
    accepted: fs.readFileSync(new URL(acceptedFile, CAPTURES), "utf8"),
  };
}

/** Sends a capture as it was sent (its method, path, headers and body bytes; the connection's own headers aside). */
async function replay(proxy: TestProxy, name: string): Promise<{ capture: Capture; response: Response; text: string }> {
  const captured = capture(name);
  const headers = Object.fromEntries(
    Object.entries(captured.headers).filter(([key]) => !["host", "connection", "content-length"].includes(key)),
  );
  const response = await fetch(`${proxy.url}${captured.url}`, {
    method: captured.method,
    headers,
    ...(captured.method === "GET" ? {} : { body: captured.body }),
  });
  return { capture: captured, response, text: await response.text() };
}

/** Fails unless `actual` has every key of `expected`, with a value of the same JSON type (objects: recursively). */
function expectSameShape(actual: unknown, expected: unknown, path = "$"): void {
  const type = (value: unknown) => (Array.isArray(value) ? "array" : value === null ? "null" : typeof value);
  expect(type(actual), path).toBe(type(expected));
  if (type(expected) === "object") {
    for (const [key, value] of Object.entries(expected as Record<string, unknown>))
      expectSameShape((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
  } else if (Array.isArray(expected) && expected.length > 0 && Array.isArray(actual) && actual.length > 0) {
    expectSameShape(actual[0], expected[0], `${path}[0]`);
  }
}

/** The recorded exchanges of a proxy, oldest first, with their protocol and usage. */
async function exchanges(proxy: TestProxy) {
  await proxy.server.ctx.recorder.flush();
  return rows<{
    protocol: string | null;
    prompt_json: string;
    prompt: string;
    response: string;
    input_tokens: number | null;
    output_tokens: number | null;
    stream: number;
    status: string;
    conversation_id: string;
  }>(
    proxy.dbPath,
    `SELECT e.protocol, r.prompt_json, r.prompt, r.response, r.input_tokens, r.output_tokens, e.stream, e.status,
            r.conversation_id
       FROM llm_relay_exchanges e JOIN responses r ON r.id = e.response_id ORDER BY r.id`,
  );
}

describe("captured ollama-js requests, replayed byte for byte (default model: echo)", () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startTestProxy();
  });
  afterAll(async () => {
    await proxy.close();
  });

  it("chat and generate: answers in the accepted shape, each exchange recorded as protocol ollama", async () => {
    const nonStream = await replay(proxy, "chat-nonstream");
    expect(nonStream.response.status).toBe(200);
    expect(nonStream.response.headers.get("content-type")).toMatch(/^application\/json/);
    const answer = JSON.parse(nonStream.text) as Record<string, unknown>;
    expectSameShape(answer, JSON.parse(nonStream.capture.accepted));
    expect(answer).toMatchObject({ model: "x", message: { role: "assistant", content: "say hi" }, done: true });

    const stream = await replay(proxy, "chat-stream");
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const lines = stream.text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const acceptedLines = stream.capture.accepted
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as unknown);
    expectSameShape(lines[0], acceptedLines[0]);
    expectSameShape(lines.at(-1), acceptedLines.at(-1));
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: "stop", eval_count: 2 });

    const generate = await replay(proxy, "generate");
    expect(generate.response.status).toBe(200);
    expectSameShape(JSON.parse(generate.text), JSON.parse(generate.capture.accepted));

    const recorded = await exchanges(proxy);
    expect(recorded).toHaveLength(3);
    const bodies = [nonStream, stream, generate].map(
      ({ capture: c }) => JSON.parse(c.body.toString("utf8")) as unknown,
    );
    recorded.forEach((row, i) => {
      expect(row.protocol).toBe("ollama");
      expect(row.status).toBe("ok");
      expect(JSON.parse(row.prompt_json)).toEqual(bodies[i]);
      expect(row.prompt).toBe("say hi");
      expect(row.response).toBe("say hi");
      expect(row.input_tokens).toBeGreaterThan(0);
      expect(row.output_tokens).toBe(2);
    });
    expect(recorded.map((row) => row.stream)).toEqual([0, 1, 0]);
  });

  it("tags, show and version: answers in the accepted shape", async () => {
    for (const name of ["tags", "show", "version"]) {
      const { capture: captured, response, text } = await replay(proxy, name);
      expect(response.status, name).toBe(200);
      const body = JSON.parse(text) as { models?: { name: string }[] };
      const accepted = JSON.parse(captured.accepted) as { model_info?: Record<string, unknown> };
      // `<architecture>.context_length` is there only for a model whose window is known (echo has none).
      if (accepted.model_info)
        accepted.model_info = { "general.architecture": accepted.model_info["general.architecture"] };
      expectSameShape(body, accepted);
      if (name === "tags") expect(body.models!.map((model) => model.name)).toContain("echo");
    }
  });
});

describe("embed, replayed to an embeddings upstream", () => {
  let upstream: FakeEmbeddings;
  let proxy: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeEmbeddings();
    proxy = await startTestProxy({ defaultModel: null, models: { x: fakeDeployment(upstream.baseUrl) } });
  });
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("answers the accepted shape and records the embeddings exchange", async () => {
    const { capture: captured, response, text } = await replay(proxy, "embed");
    expect(response.status).toBe(200);
    const body = JSON.parse(text) as { embeddings: number[][]; prompt_eval_count: number };
    expectSameShape(body, JSON.parse(captured.accepted));
    expect(body.embeddings).toHaveLength(1);
    expect(body.prompt_eval_count).toBe(TOKENS_PER_INPUT);
    await proxy.server.ctx.recorder.flush();
    const recorded = rows<{ model: string; status: string; input_tokens: number; input_count: number }>(
      proxy.dbPath,
      "SELECT model, status, input_tokens, input_count FROM llm_relay_embeddings",
    );
    expect(recorded).toEqual([{ model: "x", status: "ok", input_tokens: TOKENS_PER_INPUT, input_count: 1 }]);
  });
});

describe("a tool conversation through /api/chat", () => {
  let upstream: ChatScriptUpstream;
  let proxy: TestProxy;
  beforeAll(async () => {
    upstream = await startChatScriptUpstream();
    proxy = await startTestProxy({ defaultModel: null, models: { chat: fakeDeployment(upstream.baseUrl) } });
  });
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("threads the client's second turn (the call sent back, the tool result) into the first one's conversation", async () => {
    upstream.enqueue(
      {
        reasoning: ["Need the tool."],
        toolCalls: [{ id: "call_t1", name: "lookup", pieces: ['{"q":"x"}'] }],
        usage: { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 },
      },
      { text: ["Found it."] },
    );
    const client = new Ollama({ host: proxy.url });
    const tools = [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }];
    const messages: Message[] = [{ role: "user", content: "Look x up" }];
    const first = await client.chat({ model: "chat", stream: true, messages, tools, think: true });
    let reply: Message = { role: "assistant", content: "" };
    for await (const part of first) {
      if (part.message.thinking) reply = { ...reply, thinking: (reply.thinking ?? "") + part.message.thinking };
      if (part.message.tool_calls) reply = { ...reply, tool_calls: part.message.tool_calls };
    }
    messages.push(reply, { role: "tool", content: "x is 42", tool_name: "lookup" });
    const second = await client.chat({ model: "chat", messages, tools, think: true });
    expect(second.message.content).toBe("Found it.");

    const recorded = await exchanges(proxy);
    expect(recorded).toHaveLength(2);
    expect(recorded.map((row) => row.protocol)).toEqual(["ollama", "ollama"]);
    expect(recorded[0]).toMatchObject({ input_tokens: 30, output_tokens: 9, stream: 1 });
    expect(recorded[1]!.conversation_id).toBe(recorded[0]!.conversation_id);
  });
});
