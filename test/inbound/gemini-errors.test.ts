/**
 * The Gemini API's errors and keys on llm-relay: every error in Google's
 * shape (`{"error":{"code","message","status"}}`), seen by `@google/genai`
 * as an `ApiError` with the HTTP status: an unknown model 404 `NOT_FOUND`
 * (generate, stream, countTokens, models.get), a bad body or parameter 400
 * `INVALID_ARGUMENT` naming the field, an unknown method 404; with keys
 * required, no key 401 `UNAUTHENTICATED`, the key accepted in
 * `x-goog-api-key` and in `?key=`; the model in the URL seen by admission
 * (a key limited to other models 403 `PERMISSION_DENIED`, a spent budget
 * 429 `RESOURCE_EXHAUSTED` on generate but not on countTokens); an
 * upstream that breaks mid-stream as an in-band error event. The server
 * keeps serving after each.
 */
import { ApiError, GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { send, type Answer } from "../helpers/exchanges.js";
import { readSse } from "../helpers/sse.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { withoutKeyParam } from "../../src/protocol/gemini/key-param.js";
import { startChatScriptUpstream, type ChatScriptUpstream } from "./helpers/chat-script-upstream.js";

let upstream: ChatScriptUpstream;
let proxy: TestProxy;
let ai: GoogleGenAI;

beforeAll(async () => {
  upstream = await startChatScriptUpstream();
  // No default model: a name no deployment serves is unknown.
  proxy = await startTestProxy({ defaultModel: null, models: { known: fakeDeployment(upstream.baseUrl) } });
  ai = new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: proxy.url } });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

const HELLO = { contents: [{ role: "user", parts: [{ text: "hello" }] }] };

/** Google's error of an answer, after checking the body has exactly Google's shape and the status agrees. */
function googleError(answer: Answer): { code: number; message: string; status: string } {
  expect(answer.headers.get("content-type") ?? "").toMatch(/application\/json/);
  const body = answer.json as { error?: Record<string, unknown> } | undefined;
  expect(body, `not a JSON body: ${answer.text.slice(0, 200)}`).toBeTypeOf("object");
  expect(Object.keys(body!)).toEqual(["error"]);
  expect(Object.keys(body!.error!).sort()).toEqual(["code", "message", "status"]);
  expect(body!.error!.code).toBe(answer.status);
  return body!.error as { code: number; message: string; status: string };
}

/** What `@google/genai` raised for a call: an ApiError with the status and Google's error body in its message. */
async function apiError(
  call: Promise<unknown>,
): Promise<{ status: number; error: { status: string; message: string } }> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  const apiError = error as ApiError;
  const json = apiError.message.slice(apiError.message.indexOf("{"));
  return { status: apiError.status, error: (JSON.parse(json) as { error: { status: string; message: string } }).error };
}

/** A request to the proxy's Gemini routes. */
function gemini(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return send(`${proxy.url}/v1beta/${path}`, { ...(body === undefined ? {} : { body }), headers });
}

describe("an unknown model", () => {
  it("is 404 NOT_FOUND for generateContent, generateContentStream, countTokens and models.get", async () => {
    for (const call of [
      () => ai.models.generateContent({ model: "no-such-model", contents: "x" }),
      () => ai.models.generateContentStream({ model: "no-such-model", contents: "x" }),
      () => ai.models.countTokens({ model: "no-such-model", contents: "x" }),
      () => ai.models.get({ model: "no-such-model" }),
    ]) {
      const seen = await apiError(call());
      expect(seen.status).toBe(404);
      expect(seen.error.status).toBe("NOT_FOUND");
      expect(seen.error.message).toContain("no-such-model");
    }
    const raw = await gemini("models/no-such-model:generateContent", HELLO);
    expect(raw.status).toBe(404);
    expect(googleError(raw).status).toBe("NOT_FOUND");
  });
});

describe("a bad request", () => {
  it("is 400 INVALID_ARGUMENT naming the field, and the server keeps serving", async () => {
    const cases: [string, unknown, string][] = [
      ["models/known:generateContent", { contents: "hello" }, "contents"],
      ["models/known:generateContent", {}, "contents"],
      ["models/known:generateContent", { contents: [{ role: "robot", parts: [{ text: "x" }] }] }, "contents[0].role"],
      ["models/known:generateContent", { contents: [{ parts: [{ text: 5 }] }] }, "contents[0].parts[0].text"],
      ["models/known:generateContent", { contents: [{ role: "user", parts: [] }] }, "contents[0].parts"],
      [
        "models/known:streamGenerateContent?alt=sse",
        { ...HELLO, generationConfig: { candidateCount: 2 } },
        "generationConfig.candidateCount",
      ],
      [
        "models/known:generateContent",
        { contents: [{ parts: [{ inlineData: { mimeType: "video/mp4", data: "AAAA" } }] }] },
        "contents[0].parts[0].inlineData.mimeType",
      ],
      [
        "models/known:generateContent",
        {
          ...HELLO,
          tools: [{ functionDeclarations: [{ name: "f" }] }],
          toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["g"] } },
        },
        "allowedFunctionNames",
      ],
      ["models/known:streamGenerateContent?alt=proto", HELLO, "alt"],
      ["models/known:countTokens", { contents: [{ parts: "x" }] }, "contents[0].parts"],
      ["models?pageToken=zzz", undefined, "pageToken"],
    ];
    for (const [path, body, field] of cases) {
      const answer = await gemini(path, body);
      expect(answer.status, path).toBe(400);
      const error = googleError(answer);
      expect(error.status).toBe("INVALID_ARGUMENT");
      expect(error.message, JSON.stringify(body)).toContain(field);
    }
    const notJson = await gemini("models/known:generateContent", "{not json");
    expect(notJson.status).toBe(400);
    expect(googleError(notJson).status).toBe("INVALID_ARGUMENT");
    const served = await ai.models.generateContent({ model: "known", contents: "still there?" });
    expect(served.text).toBe("fine");
  });

  it("an unknown method of a model is 404 NOT_FOUND", async () => {
    const answer = await gemini("models/known:embedContent", HELLO);
    expect(answer.status).toBe(404);
    expect(googleError(answer).status).toBe("NOT_FOUND");
  });
});

describe("an upstream that breaks after the stream began", () => {
  it("ends the SSE stream with Google's error object, which the SDK raises", async () => {
    upstream.enqueue({ text: ["partial ", "answer ", "never ends"], breakAfter: 2 });
    const response = await fetch(`${proxy.url}/v1beta/models/known:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(HELLO),
    });
    expect(response.status).toBe(200);
    const events = (await readSse(response)).map((data) => JSON.parse(data) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ candidates: [{ content: { parts: [{ text: "partial " }] } }] });
    expect(events.at(-1)).toMatchObject({ error: { code: 502, status: "INTERNAL" } });

    upstream.enqueue({ text: ["partial ", "answer ", "never ends"], breakAfter: 2 });
    const stream = await ai.models.generateContentStream({ model: "known", contents: "hello" });
    const seen = await apiError(
      (async () => {
        for await (const chunk of stream) void chunk;
      })(),
    );
    expect(seen.status).toBe(502);
  });
});

describe("with keys required", () => {
  let keyed: TestProxy;
  let key: string;
  let limited: string;
  let broke: string;

  beforeAll(async () => {
    keyed = await startTestProxy();
    key = (await keyed.server.ctx.tenancy.keys.create({ tenant: "acme" })).plaintext;
    limited = (await keyed.server.ctx.tenancy.keys.create({ tenant: "acme", models: ["echo"] })).plaintext;
    broke = (await keyed.server.ctx.tenancy.keys.create({ tenant: "acme", budgetUsd: 0 })).plaintext;
  });
  afterAll(() => keyed.close());

  const keyedCall = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
    send(`${keyed.url}/v1beta/${path}`, { ...(body === undefined ? {} : { body }), headers });

  it("no key or a wrong one is 401 UNAUTHENTICATED; x-goog-api-key and ?key= are both accepted", async () => {
    const none = await keyedCall("models/echo:generateContent", HELLO);
    expect(none.status).toBe(401);
    expect(googleError(none).status).toBe("UNAUTHENTICATED");
    expect((await keyedCall("models")).status).toBe(401);
    const wrong = await apiError(
      new GoogleGenAI({ apiKey: "lr-not-a-key", httpOptions: { baseUrl: keyed.url } }).models.generateContent({
        model: "echo",
        contents: "x",
      }),
    );
    expect(wrong).toMatchObject({ status: 401, error: { status: "UNAUTHENTICATED" } });

    const sdk = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: keyed.url } });
    expect((await sdk.models.generateContent({ model: "echo", contents: "by header" })).text).toBe("by header");
    const byQuery = await keyedCall(`models/echo:generateContent?key=${key}`, {
      contents: [{ parts: [{ text: "by query" }] }],
    });
    expect(byQuery.status).toBe(200);
    expect(byQuery.json).toMatchObject({ candidates: [{ content: { parts: [{ text: "by query" }] } }] });
    const listed = await keyedCall(`models?key=${key}`);
    expect(listed.status).toBe(200);

    await keyed.server.ctx.recorder.flush();
    const booked = rows<{ tenant_id: string; protocol: string }>(
      keyed.dbPath,
      "SELECT e.tenant_id, e.protocol FROM llm_relay_exchanges e ORDER BY e.response_id",
    );
    expect(booked).toEqual([
      { tenant_id: "acme", protocol: "gemini" },
      { tenant_id: "acme", protocol: "gemini" },
    ]);
  });

  it("admission sees the URL's model: a key for other models is 403 PERMISSION_DENIED", async () => {
    const refused = await keyedCall("models/gpt-4o:generateContent", HELLO, { "x-goog-api-key": limited });
    expect(refused.status).toBe(403);
    expect(googleError(refused)).toMatchObject({
      status: "PERMISSION_DENIED",
      message: expect.stringContaining("gpt-4o") as unknown,
    });
    expect((await keyedCall("models/gpt-4o:countTokens", HELLO, { "x-goog-api-key": limited })).status).toBe(403);
    const allowed = await keyedCall("models/echo:generateContent", HELLO, { "x-goog-api-key": limited });
    expect(allowed.status).toBe(200);
  });

  it("generate is billed (a spent budget is 429 RESOURCE_EXHAUSTED); countTokens and models are not", async () => {
    const spent = await keyedCall("models/echo:streamGenerateContent?alt=sse", HELLO, { "x-goog-api-key": broke });
    expect(spent.status).toBe(429);
    expect(googleError(spent).status).toBe("RESOURCE_EXHAUSTED");
    const counted = await keyedCall("models/echo:countTokens", HELLO, { "x-goog-api-key": broke });
    expect(counted.status).toBe(200);
    expect((counted.json as { totalTokens: number }).totalTokens).toBeGreaterThan(0);
    expect((await keyedCall("models/echo", undefined, { "x-goog-api-key": broke })).status).toBe(200);
  });
});

describe("Idempotency-Key on a model URL", () => {
  it("replays the answer for the same URL and body; the same key for another model is 422", async () => {
    const headers = { "idempotency-key": "gemini-retry-1" };
    const before = upstream.bodies.length;
    const first = await gemini("models/known:generateContent", HELLO, headers);
    const again = await gemini("models/known:generateContent", HELLO, headers);
    expect(first.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(upstream.bodies.length - before, "requests upstream").toBe(1);
    const otherModel = await gemini("models/other:generateContent", HELLO, headers);
    expect(otherModel.status).toBe(422);
    expect(googleError(otherModel).status).toBe("FAILED_PRECONDITION");
  });
});

describe("the key in the URL", () => {
  it("is left out of URLs that are logged", () => {
    expect(withoutKeyParam("/v1beta/models?key=lr-secret&pageSize=2")).toBe("/v1beta/models?key=[redacted]&pageSize=2");
    expect(withoutKeyParam("/v1beta/models/m:countTokens?alt=sse&key=lr-secret")).toBe(
      "/v1beta/models/m:countTokens?alt=sse&key=[redacted]",
    );
    expect(withoutKeyParam("/v1/models")).toBe("/v1/models");
  });
});
