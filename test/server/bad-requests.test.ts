/**
 * Requests the proxy must refuse, as a client sees them: OpenAI error
 * bodies with the right status, `param` and `code`; the proxy keeps
 * serving after each. Plus request ids, `/v1/models`, `/health`, and
 * secrets that must never reach the database.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { chat, chatBody, openAIError, recordedExchange, send, type Answer } from "../helpers/exchanges.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy;
beforeAll(async () => {
  proxy = await startTestProxy();
});
afterAll(async () => proxy?.close());

/** A valid request right after a bad one gets its echo answer. */
async function expectStillServing(target: TestProxy = proxy): Promise<void> {
  const answer = await chat(target, { model: "echo", messages: [{ role: "user", content: "still alive?" }] });
  expect(answer.status).toBe(200);
  expect((answer.json as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe(
    "still alive?",
  );
}

/** Checks a 400 invalid_request_error and returns the error. */
function expect400(answer: Answer) {
  expect(answer.status).toBe(400);
  const error = openAIError(answer);
  expect(error.type).toBe("invalid_request_error");
  return error;
}

describe("malformed chat-completion requests (echo)", () => {
  it("answers 400 to a body that is not JSON", async () => {
    const error = expect400(await chat(proxy, '{"model":"echo","messages":['));
    expect(error.code).toBe("invalid_json");
    await expectStillServing();
  });

  it("answers 400 naming 'messages' when it is missing", async () => {
    const error = expect400(await chat(proxy, { model: "echo" }));
    expect(error.message).toContain("'messages'");
    expect(error.param).toBe("messages");
    await expectStillServing();
  });

  it("answers 400 with param messages.1.role for an unknown role", async () => {
    const body = {
      model: "echo",
      messages: [
        { role: "user", content: "hi" },
        { role: "wizard", content: "abracadabra" },
      ],
    };
    const error = expect400(await chat(proxy, body));
    expect(error.param).toBe("messages.1.role");
    expect(error.message).toContain("messages.1.role");
    await expectStillServing();
  });

  it("answers 400 to a JSON array body", async () => {
    const error = expect400(await chat(proxy, [chatBody("echo")]));
    expect(error.message).toMatch(/JSON object/);
    await expectStillServing();
  });

  it("answers 404 with an OpenAI body to an unknown URL", async () => {
    for (const [method, path] of [
      ["GET", "/v1/nothing-here"],
      ["POST", "/v1/edits"],
    ] as const) {
      const answer = await send(`${proxy.url}${path}`, {
        method,
        ...(method === "POST" ? { body: chatBody("echo") } : {}),
      });
      expect(answer.status, `${method} ${path}`).toBe(404);
      const error = openAIError(answer);
      expect(error.message).toContain(path);
    }
    await expectStillServing();
  });

  it("does not echo the value of a ?key= query parameter (the Gemini API's way to send a key) in a 404", async () => {
    const answer = await send(`${proxy.url}/v1/nothing-here?alt=sse&key=sk-secret-in-url`, { method: "GET" });
    expect(answer.status).toBe(404);
    const error = openAIError(answer);
    expect(error.message).toContain("/v1/nothing-here?alt=sse&key=[redacted]");
    expect(answer.text).not.toContain("sk-secret-in-url");
  });

  // curl -d sends application/x-www-form-urlencoded; fetch with a string body and no header sends text/plain.
  it.each(["application/x-www-form-urlencoded", "text/plain;charset=UTF-8"])(
    "parses a JSON body sent as %s",
    async (contentType) => {
      const answer = await send(`${proxy.baseURL}/chat/completions`, {
        body: JSON.stringify(chatBody("echo")),
        headers: { "content-type": contentType },
      });
      expect(answer.status, answer.text).toBe(200);
      expect((answer.json as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe(
        "Say hello",
      );
    },
  );
});

describe("request ids", () => {
  it("echoes the client's x-request-id on success and records it", async () => {
    const answer = await chat(proxy, chatBody("echo"), { "x-request-id": "client-trace-ok-1" });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-request-id")).toBe("client-trace-ok-1");
    expect((await recordedExchange(proxy, "client-trace-ok-1")).status).toBe("ok");
  });

  it("echoes the client's x-request-id on error responses", async () => {
    const invalid = await chat(proxy, "{not json", { "x-request-id": "client-trace-bad-json" });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get("x-request-id")).toBe("client-trace-bad-json");
    const missing = await chat(proxy, { model: "echo" }, { "x-request-id": "client-trace-no-messages" });
    expect(missing.status).toBe(400);
    expect(missing.headers.get("x-request-id")).toBe("client-trace-no-messages");
    const notFound = await send(`${proxy.url}/v1/nope`, { headers: { "x-request-id": "client-trace-404" } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get("x-request-id")).toBe("client-trace-404");
  });

  it("generates a fresh id when the client sends none, and records it", async () => {
    const first = await chat(proxy, chatBody("echo"));
    const second = await chat(proxy, "{not json");
    const firstId = first.headers.get("x-request-id") ?? "";
    const secondId = second.headers.get("x-request-id") ?? "";
    expect(firstId).not.toBe("");
    expect(secondId).not.toBe("");
    expect(firstId).not.toBe(secondId);
    expect((await recordedExchange(proxy, firstId)).status).toBe("ok");
  });
});

describe("informational endpoints", () => {
  it("GET /v1/models lists echo in OpenAI's list shape", async () => {
    const answer = await send(`${proxy.baseURL}/models`);
    expect(answer.status).toBe(200);
    const body = answer.json as { object: string; data: { id: string; object: string }[] };
    expect(body.object).toBe("list");
    expect(Array.isArray(body.data)).toBe(true);
    expect(body.data).toContainEqual(expect.objectContaining({ id: "echo", object: "model" }));
  });

  it("GET /health reports a writable database, the version and the queue", async () => {
    const answer = await send(`${proxy.url}/health`);
    expect(answer.status).toBe(200);
    const body = answer.json as { version: unknown; db: { writable: unknown }; recorder: { queued: unknown } };
    expect(body.db.writable).toBe(true);
    expect(body.version).toBeTypeOf("string");
    expect(body.version).not.toBe("");
    expect(body.recorder.queued).toBeTypeOf("number");
  });
});

describe("secrets", () => {
  it("never stores the client's Authorization header or an api_key body field", async () => {
    const marker = "secret-probe-marker-7d1f";
    const answer = await chat(
      proxy,
      {
        model: "echo",
        api_key: "sk-body-456",
        temperature: 0.5,
        metadata: { tags: [{ password: "sk-nested-789", kept: "visible-field" }] },
        messages: [{ role: "user", content: marker }],
      },
      { authorization: "Bearer sk-secret-123", "x-request-id": "secret-probe" },
    );
    expect(answer.status).toBe(200);
    const row = await recordedExchange(proxy, "secret-probe");
    expect(row.prompt).toBe(marker);
    expect(row.prompt_json).toContain(marker);

    expect(row.prompt_json).toContain("visible-field");
    for (const secret of ["sk-secret-123", "sk-body-456", "sk-nested-789"]) {
      expect(rows(proxy.dbPath, "select prompt_json from responses where prompt_json like ?", `%${secret}%`)).toEqual(
        [],
      );
    }
    // The options llm accepts are recorded (responses.options_json, turns.options_json); metadata is not an llm option, so it is only in prompt_json.
    const options = rows<{ options_json: string }>(
      proxy.dbPath,
      "select options_json from responses where id = ? union all select options_json from turns where id = ?",
      row.id,
      row.id,
    );
    expect(options).toHaveLength(2);
    for (const { options_json } of options) expect(options_json).toBe('{"temperature": 0.5}');
    // The whole database: the main file and its write-ahead log (the records may not be checkpointed yet).
    const bytes = Buffer.concat(
      [proxy.dbPath, `${proxy.dbPath}-wal`].filter((file) => fs.existsSync(file)).map((file) => fs.readFileSync(file)),
    );
    expect(bytes.includes(marker), "the record itself is in the bytes scanned").toBe(true);
    expect(bytes.includes("sk-secret-123"), "Authorization header in the database").toBe(false);
    expect(bytes.includes("sk-body-456"), "api_key body field in the database").toBe(false);
    expect(bytes.includes("sk-nested-789"), "nested password field in the database").toBe(false);
  });
});

describe("with default_model null", () => {
  let strict: TestProxy;
  beforeAll(async () => {
    strict = await startTestProxy({ defaultModel: null });
  });
  afterAll(async () => strict?.close());

  it("answers 404 model_not_found for an unknown model, and records it", async () => {
    const answer = await chat(strict, chatBody("no-such-model"), { "x-request-id": "unknown-model" });
    expect(answer.status).toBe(404);
    const error = openAIError(answer);
    expect(error).toMatchObject({ code: "model_not_found", param: "model" });
    expect(error.message).toContain("no-such-model");
    const row = await recordedExchange(strict, "unknown-model");
    expect(row).toMatchObject({ status: "error", http_status: 404, model: "no-such-model", provider: null });
    expect(row.error ?? "").toContain("no-such-model");
    await expectStillServing(strict);
  });
});

describe("with a 1 MiB body limit", () => {
  let small: TestProxy;
  beforeAll(async () => {
    small = await startTestProxy({ bodyLimitBytes: 1024 * 1024 });
  });
  afterAll(async () => small?.close());

  it("answers 413 with an OpenAI body to a 2 MB request, then keeps serving", async () => {
    const body = { model: "echo", messages: [{ role: "user", content: "x".repeat(2 * 1024 * 1024) }] };
    const answer = await chat(small, body, { "x-request-id": "too-big" });
    expect(answer.status).toBe(413);
    const error = openAIError(answer);
    expect(error.type).toBe("invalid_request_error");
    expect(error.message).toContain(String(1024 * 1024));
    expect(answer.headers.get("x-request-id")).toBe("too-big");
    await expectStillServing(small);
  });

  it("answers 413 to a 2 MB chunked request without Content-Length, then keeps serving", async () => {
    const text = JSON.stringify({ model: "echo", messages: [{ role: "user", content: "y".repeat(2 * 1024 * 1024) }] });
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
        controller.close();
      },
    });
    const response = await fetch(`${small.baseURL}/chat/completions`, {
      method: "POST",
      body,
      duplex: "half",
      headers: { "content-type": "application/json" },
    });
    const answer = {
      status: response.status,
      headers: response.headers,
      text: await response.text(),
      json: undefined as unknown,
    };
    answer.json = JSON.parse(answer.text);
    expect(answer.status).toBe(413);
    expect(openAIError(answer).code).toBe("request_too_large");
    await expectStillServing(small);
  });
});
