/**
 * One rule for a missing field on every inbound protocol (src/protocol/zod-issue.ts): a field absent from the
 * body, at any depth and whatever its schema (a type, an enum, a union, a content block's own field), is reported
 * as missing in the protocol's own words; a field that is present but wrong is reported as a wrong value. Real HTTP
 * against the proxy and its `echo` model; the proxy keeps serving after each.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chat, openAIError, send, type Answer } from "../helpers/exchanges.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy;
beforeAll(async () => {
  proxy = await startTestProxy();
});
afterAll(async () => proxy?.close());

function post(path: string, body: unknown): Promise<Answer> {
  return send(`${proxy.url}${path}`, { body });
}

/** Anthropic's `{"type":"error","error":{"type","message"}}`, after checking the 400. */
function anthropicMessage(answer: Answer): string {
  expect(answer.status).toBe(400);
  const body = answer.json as { type: string; error: { type: string; message: string } };
  expect(body.type).toBe("error");
  expect(body.error.type).toBe("invalid_request_error");
  return body.error.message;
}

/** Ollama's `{"error": "…"}`, after checking the 400. */
function ollamaMessage(answer: Answer): string {
  expect(answer.status).toBe(400);
  return (answer.json as { error: string }).error;
}

/** Google's `{"error":{"code","message","status"}}`, after checking the 400. */
function googleMessage(answer: Answer): string {
  expect(answer.status).toBe(400);
  const error = (answer.json as { error: { code: number; message: string; status: string } }).error;
  expect(error.status).toBe("INVALID_ARGUMENT");
  return error.message;
}

describe("a field absent from the body is missing, at any depth", () => {
  it("Chat Completions: missing_required_parameter for an absent role (an enum) and a nested function name", async () => {
    for (const [messages, param] of [
      [[{ content: "hi" }], "messages.0.role"],
      [
        [
          { role: "user", content: "hi" },
          { role: "assistant", tool_calls: [{ function: {} }] },
        ],
        "messages.1.tool_calls.0.function.name",
      ],
    ] as const) {
      const answer = await chat(proxy, { model: "echo", messages });
      expect(answer.status).toBe(400);
      const error = openAIError(answer);
      expect(error).toMatchObject({ param, code: "missing_required_parameter" });
      expect(error.message).toBe(`Missing required parameter: '${param}'.`);
    }
    const wrong = openAIError(await chat(proxy, { model: "echo", messages: [{ role: "wizard", content: "hi" }] }));
    expect(wrong).toMatchObject({ param: "messages.0.role", code: "invalid_value" });
    const served = await chat(proxy, { model: "echo", messages: [{ role: "user", content: "still here" }] });
    expect(served.status).toBe(200);
  });

  it("Anthropic Messages: 'Field required' for an absent content (a union) and a text block's absent text", async () => {
    const noContent = { model: "echo", max_tokens: 5, messages: [{ role: "user" }] };
    expect(anthropicMessage(await post("/v1/messages", noContent))).toBe("messages.0.content: Field required");
    const noText = { model: "echo", max_tokens: 5, messages: [{ role: "user", content: [{ type: "text" }] }] };
    expect(anthropicMessage(await post("/v1/messages", noText))).toBe("messages.0.content.0.text: Field required");
    const noRole = { model: "echo", messages: [{ content: "hi" }] };
    expect(anthropicMessage(await post("/v1/messages/count_tokens", noRole))).toBe("messages.0.role: Field required");
    const wrongText = {
      model: "echo",
      max_tokens: 5,
      messages: [{ role: "user", content: [{ type: "text", text: 5 }] }],
    };
    const wrong = anthropicMessage(await post("/v1/messages", wrongText));
    expect(wrong).toMatch(/^messages\.0\.content\.0\.text: /);
    expect(wrong).not.toContain("Field required");
    const served = await post("/v1/messages", {
      model: "echo",
      max_tokens: 5,
      messages: [{ role: "user", content: "x" }],
    });
    expect(served.status).toBe(200);
  });

  it("Ollama: '<path> is required' for an absent role and tool name, '<path>: …' for a wrong one", async () => {
    expect(ollamaMessage(await post("/api/chat", { model: "echo", messages: [{ content: "hi" }] }))).toBe(
      "messages.0.role is required",
    );
    const noName = {
      model: "echo",
      messages: [{ role: "user", content: "hi" }],
      tools: [{ type: "function", function: {} }],
    };
    expect(ollamaMessage(await post("/api/chat", noName))).toBe("tools.0.function.name is required");
    const wrong = ollamaMessage(
      await post("/api/chat", { model: "echo", messages: [{ role: "robot", content: "hi" }] }),
    );
    expect(wrong).toMatch(/^messages\.0\.role: /);
    const served = await post("/api/chat", {
      model: "echo",
      messages: [{ role: "user", content: "x" }],
      stream: false,
    });
    expect(served.status).toBe(200);
  });

  it("Gemini: 'required field is missing' for a content's absent parts, the zod message for wrong ones", async () => {
    const path = "/v1beta/models/echo:generateContent";
    expect(googleMessage(await post(path, { contents: [{ role: "user" }] }))).toBe(
      "Invalid value at 'contents[0].parts': required field is missing",
    );
    const wrong = googleMessage(await post(path, { contents: [{ role: "user", parts: "x" }] }));
    expect(wrong).toMatch(/^Invalid value at 'contents\[0\]\.parts': /);
    expect(wrong).not.toContain("required field is missing");
  });

  it("Responses: missing_required_parameter for an input item's absent role (an enum) and call_id", async () => {
    for (const [item, param] of [
      [{ content: "hi" }, "input[0].role"],
      [{ type: "function_call", name: "f", arguments: "{}" }, "input[0].call_id"],
    ] as const) {
      const error = openAIError(await post("/v1/responses", { model: "echo", input: [item] }));
      expect(error).toMatchObject({ param, code: "missing_required_parameter" });
      expect(error.message).toBe(`Missing required parameter: '${param}'.`);
    }
    const served = await post("/v1/responses", { model: "echo", input: "still here" });
    expect(served.status).toBe(200);
  });
});
