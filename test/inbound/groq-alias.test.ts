/**
 * The `/openai/v1/*` path alias (issue 20 item 4): Groq's SDK (`groq-sdk`) posts to
 * `{baseURL}/openai/v1/chat/completions`, so with `baseURL` set to the proxy's root it reaches the same routes as
 * `/v1/*`. Chat streamed and not, to `echo` and to an OpenAI-compatible upstream, each exchange recorded; the
 * alias's errors are OpenAI's, and other `/v1` routes (models, legacy completions) answer there too.
 */
import Groq from "groq-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { startChatScriptUpstream, type ChatScriptUpstream } from "./helpers/chat-script-upstream.js";

let upstream: ChatScriptUpstream;
let proxy: TestProxy;
let groq: Groq;

beforeAll(async () => {
  upstream = await startChatScriptUpstream();
  proxy = await startTestProxy({ models: { chat: fakeDeployment(upstream.baseUrl) } });
  groq = new Groq({ baseURL: proxy.url, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

/** The record of a request id: its llm row and our exchange columns. */
async function recordOf(requestId: string) {
  await proxy.server.ctx.recorder.flush();
  return rows<{
    model: string;
    prompt: string;
    response: string;
    protocol: string | null;
    stream: number;
    provider: string;
  }>(
    proxy.dbPath,
    `SELECT r.model, r.prompt, r.response, e.protocol, e.stream, e.provider
       FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id WHERE e.request_id = ?`,
    requestId,
  );
}

describe("groq-sdk through /openai/v1", () => {
  it("completes a chat (not streamed) through echo, and the exchange is recorded", async () => {
    const completion = await groq.chat.completions.create(
      { model: "llama-3.1-8b-instant", messages: [{ role: "user", content: "Hello, Groq" }] },
      { headers: { "x-request-id": "groq-echo" } },
    );
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]!.message.content).toBe("Hello, Groq");
    const recorded = await recordOf("groq-echo");
    expect(recorded).toEqual([
      {
        model: "llama-3.1-8b-instant",
        prompt: "Hello, Groq",
        response: "Hello, Groq",
        protocol: "chat",
        stream: 0,
        provider: "echo",
      },
    ]);
  });

  it("streams a chat from an OpenAI-compatible upstream, and the exchange is recorded", async () => {
    upstream.enqueue({ text: ["Fast ", "inference."] });
    const stream = await groq.chat.completions.create(
      { model: "chat", stream: true, messages: [{ role: "user", content: "Say something" }] },
      { headers: { "x-request-id": "groq-stream" } },
    );
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe("Fast inference.");
    expect(finish).toBe("stop");
    expect(upstream.bodies.at(-1)).toMatchObject({ messages: [{ role: "user", content: "Say something" }] });
    const recorded = await recordOf("groq-stream");
    expect(recorded).toMatchObject([
      { prompt: "Say something", response: "Fast inference.", stream: 1, provider: "openai-compatible" },
    ]);
  });

  it("answers errors on the alias in OpenAI's shape (the SDK's BadRequestError)", async () => {
    const error = await groq.chat.completions
      .create({ model: "chat", messages: [{ role: "robot" as "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Groq.BadRequestError);
    expect((error as InstanceType<typeof Groq.BadRequestError>).error).toMatchObject({
      error: { type: "invalid_request_error" },
    });
  });

  it("serves the other /v1 routes under the alias: models and legacy completions", async () => {
    const models = await groq.models.list();
    expect(models.data.map((m) => m.id)).toContain("chat");
    const response = await fetch(`${proxy.url}/openai/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "anything", prompt: "aliased prompt" }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      object: "text_completion",
      choices: [{ text: "aliased prompt", index: 0 }],
    });
  });
});
