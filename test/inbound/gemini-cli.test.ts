/**
 * The captured Gemini CLI 0.61 requests (../shared/fixtures/agents/gemini-generatecontent/:
 * the main turn, `streamGenerateContent?alt=sse` with 8 function declarations
 * and `thinkingConfig`; the router's `generateContent` asking for JSON by
 * `responseJsonSchema`) replayed through the proxy with Gemini CLI's own
 * headers (`x-goog-api-key`), to `echo` and to an OpenAI-compatible
 * upstream: the answers hold what the fixtures' README says Gemini CLI
 * needs (`data:` events carrying `candidates[].content.parts[].text`, a
 * `finishReason` and `usageMetadata`), and the records hold protocol
 * `gemini`, the body as received with the URL's model in `prompt_json`,
 * the usage, and the system instruction.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { readSse } from "../helpers/sse.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../../shared/fixtures/agents/gemini-generatecontent");

/** A captured request: its URL, its headers (as Gemini CLI sent them) and its body as text. */
function captured(name: string): { url: string; headers: Record<string, string>; body: string } {
  const head = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.request.headers.json`), "utf8")) as {
    url: string;
    headers: Record<string, string>;
  };
  return {
    url: head.url,
    headers: head.headers,
    body: fs.readFileSync(path.join(FIXTURES, `${name}.request.body.json`), "utf8"),
  };
}

/** Gemini CLI's headers minus those of the connection (host, length, encoding). */
function clientHeaders(headers: Record<string, string>): Record<string, string> {
  const dropped = new Set(["host", "content-length", "connection", "accept-encoding"]);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !dropped.has(name)));
}

/** The text of the captured main turn's last user content (its parts joined), which `echo` answers. */
const MAIN_USER_TEXT = (
  JSON.parse(captured("gemini-cli.main-streamGenerateContent").body) as { contents: { parts: { text: string }[] }[] }
).contents
  .at(-1)!
  .parts.map((part) => part.text)
  .join("");

/** Replays a capture against `proxy`, the URL's model replaced by `model`. */
function replay(proxy: TestProxy, name: string, model: string): Promise<Response> {
  const request = captured(name);
  const url = request.url.replace(/\/models\/[^:]+:/, `/models/${model}:`);
  return fetch(`${proxy.url}${url}`, { method: "POST", headers: clientHeaders(request.headers), body: request.body });
}

/** One event of a streamed answer, as Gemini CLI reads it. */
interface StreamEvent {
  candidates?: { content?: { role?: string; parts?: { text?: string; thought?: boolean }[] }; finishReason?: string }[];
  usageMetadata?: { promptTokenCount: number; candidatesTokenCount: number; totalTokenCount: number };
  modelVersion?: string;
  responseId?: string;
}

/** The record of every exchange so far, oldest first (the recorder's queue written out first). */
async function records(proxy: TestProxy) {
  await proxy.server.ctx.recorder.flush();
  return rows<{
    protocol: string;
    stream: number;
    model: string;
    prompt: string;
    system: string | null;
    response: string;
    prompt_json: string;
    input_tokens: number;
    output_tokens: number;
    status: string;
  }>(
    proxy.dbPath,
    `SELECT e.protocol, e.stream, e.status, r.model, r.prompt, r.system, r.response, r.prompt_json, r.input_tokens, r.output_tokens
       FROM llm_relay_exchanges e JOIN responses r ON r.id = e.response_id ORDER BY r.id`,
  );
}

let fake: FakeUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  fake = await startFakeUpstream({ kind: "ok", text: "Hi! How can I help?", chunkCount: 3 });
  proxy = await startTestProxy({ models: { "gemini-3.8-flash": fakeDeployment(fake.baseUrl) } });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

describe.each([
  { backend: "echo", model: "echo", answer: MAIN_USER_TEXT },
  { backend: "an OpenAI-compatible upstream", model: "gemini-3.8-flash", answer: "Hi! How can I help?" },
])("Gemini CLI's main turn, streamed with alt=sse, to $backend", ({ model, answer }) => {
  it("answers the data: events Gemini CLI needs, and records the exchange", async () => {
    const before = (await records(proxy)).length;
    const response = await replay(proxy, "gemini-cli.main-streamGenerateContent", model);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = (await readSse(response)).map((data) => JSON.parse(data) as StreamEvent);
    expect(events.length).toBeGreaterThan(1);
    const text = events.flatMap((e) => e.candidates?.[0]?.content?.parts ?? []).map((p) => p.text ?? "");
    expect(text.join("")).toBe(answer);
    for (const event of events) {
      expect(event.candidates?.[0]?.content?.role).toBe("model");
      expect(event.modelVersion).toBe(model);
    }
    const last = events.at(-1)!;
    expect(last.candidates?.[0]?.finishReason).toBe("STOP");
    expect(last.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
    expect(last.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    // Gemini CLI asks for thoughts (includeThoughts); neither backend gives reasoning, so none are shown.
    expect(events.some((e) => e.candidates?.[0]?.content?.parts?.some((p) => p.thought))).toBe(false);

    const recorded = (await records(proxy)).slice(before);
    expect(recorded).toHaveLength(1);
    const row = recorded[0]!;
    expect(row).toMatchObject({
      protocol: "gemini",
      stream: 1,
      status: "ok",
      model,
      prompt: MAIN_USER_TEXT,
      response: answer,
    });
    expect(row.system).toMatch(/^You are Gemini CLI, an autonomous CLI agent/);
    expect(row.output_tokens).toBe(last.usageMetadata?.candidatesTokenCount);
    expect(row.input_tokens).toBe(last.usageMetadata?.promptTokenCount);
    const body = JSON.parse(captured("gemini-cli.main-streamGenerateContent").body) as Record<string, unknown>;
    expect(JSON.parse(row.prompt_json)).toEqual({ model, ...body });
    expect(Object.keys(JSON.parse(row.prompt_json) as object)[0]).toBe("model");
  });
});

describe("Gemini CLI's main turn to the OpenAI-compatible upstream", () => {
  it("reaches it as chat: system, the user parts, the 8 function declarations, thinkingLevel as reasoning_effort", async () => {
    await (await replay(proxy, "gemini-cli.main-streamGenerateContent", "gemini-3.8-flash")).text();
    const sent = fake.requests.at(-1)!.body as {
      messages: { role: string; content: unknown }[];
      tools: { function: { name: string; parameters: unknown } }[];
    } & Record<string, unknown>;
    expect(sent.messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(sent.messages[1]!.content).toEqual([
      { type: "text", text: expect.stringMatching(/^<session_context>/) as unknown },
      { type: "text", text: "say hi" },
    ]);
    expect(sent.tools.map((t) => t.function.name)).toEqual([
      "update_topic",
      "list_directory",
      "read_file",
      "grep_search",
      "glob",
      "google_web_search",
      "enter_plan_mode",
      "invoke_agent",
    ]);
    expect(sent).toMatchObject({ temperature: 1, top_p: 0.95, top_k: 64, reasoning_effort: "high", stream: true });
  });
});

describe.each([
  { backend: "echo", model: "echo" },
  { backend: "an OpenAI-compatible upstream", model: "gemini-3.8-flash" },
])("Gemini CLI's router request, not streamed, to $backend", ({ model }) => {
  it("answers a GenerateContentResponse with text, finishReason and usage, and records it", async () => {
    fake.enqueue({ kind: "ok", text: '{"complexity_reasoning":"simple","complexity_score":5}' });
    const before = (await records(proxy)).length;
    const response = await replay(proxy, "gemini-cli.router-generateContent", model);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const answer = (await response.json()) as StreamEvent;
    const text = answer.candidates?.[0]?.content?.parts?.map((p) => p.text).join("");
    expect(text).toBe(model === "echo" ? "say hi" : '{"complexity_reasoning":"simple","complexity_score":5}');
    expect(answer.candidates?.[0]?.finishReason).toBe("STOP");
    expect(answer.usageMetadata?.totalTokenCount).toBe(
      answer.usageMetadata!.promptTokenCount + answer.usageMetadata!.candidatesTokenCount,
    );
    expect(answer).toMatchObject({
      modelVersion: model,
      responseId: expect.stringMatching(/^[0-9a-z]{26}$/) as unknown,
    });

    const recorded = (await records(proxy)).slice(before);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      protocol: "gemini",
      stream: 0,
      status: "ok",
      model,
      output_tokens: answer.usageMetadata?.candidatesTokenCount,
      input_tokens: answer.usageMetadata?.promptTokenCount,
    });
    if (model !== "echo")
      // The JSON the router asks for, with Google's upper-case types made JSON Schema's.
      expect(fake.requests.at(-1)!.body.response_format).toEqual({
        type: "json_schema",
        json_schema: {
          name: "response",
          schema: {
            type: "object",
            properties: {
              complexity_reasoning: { type: "string", description: "Brief explanation for the score." },
              complexity_score: { type: "integer", description: "Complexity score from 1-100." },
            },
            required: ["complexity_reasoning", "complexity_score"],
          },
        },
      });
  });
});

describe("streamGenerateContent without alt=sse", () => {
  it("streams one JSON array of GenerateContentResponses, as Google does", async () => {
    const response = await fetch(`${proxy.url}/v1beta/models/echo:streamGenerateContent`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": "dummy" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "alpha beta gamma" }] }] }),
    });
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const events = (await response.json()) as StreamEvent[];
    expect(Array.isArray(events)).toBe(true);
    expect(events.map((e) => e.candidates?.[0]?.content?.parts?.[0]?.text ?? "").join("")).toBe("alpha beta gamma");
    expect(events.at(-1)?.candidates?.[0]?.finishReason).toBe("STOP");
    expect(events.at(-1)?.usageMetadata?.candidatesTokenCount).toBe(3);
  });
});
