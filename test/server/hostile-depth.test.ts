/**
 * JSON nested too deep (issue 16, failure 1): a 10 KB body nesting 5,000
 * levels in an unknown field, a content part or `tools` passed validation,
 * broke the recorder, and through a deployment that renames the model got a
 * 502 "Maximum call stack size exceeded" blamed on the upstream. Now every
 * JSON body is refused with 400 `json_too_deep` naming the limit
 * (`max_json_depth`, 64 by default) before anything else happens: on the
 * `/v1` routes in OpenAI's shape, on `/internal/*` in the envelope.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorEnvelopeSchema } from "../../src/server/envelope-schemas.js";
import { jsonNestingExceeds } from "../../src/server/json-depth.js";
import { chat, chatBody, openAIError, send } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";

/** `levels` nested arrays as JSON text: `[[[…]]]`. */
function nestedArrays(levels: number): string {
  return "[".repeat(levels) + "]".repeat(levels);
}

/** `levels` nested objects as JSON text: `{"a":{"a":…1…}}`. */
function nestedObjects(levels: number): string {
  return '{"a":'.repeat(levels) + "1" + "}".repeat(levels);
}

/** A chat body (JSON text) with `deep` spliced in where `where` says. */
function deepChatBody(model: string, where: "unknown field" | "content part" | "tools", deep: string): string {
  switch (where) {
    case "unknown field":
      return `{"model":${JSON.stringify(model)},"messages":[{"role":"user","content":"hi"}],"x_extra":${deep}}`;
    case "content part":
      return `{"model":${JSON.stringify(model)},"messages":[{"role":"user","content":[{"type":"text","text":"hi","x_extra":${deep}}]}]}`;
    case "tools":
      return `{"model":${JSON.stringify(model)},"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]}`;
  }
}

let proxy: TestProxy;
let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
  proxy = await startTestProxy({ models: { renamed: fakeDeployment(upstream.baseUrl, { model: "upstream-name" }) } });
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
});

describe("bodies nested 5,000 deep (about 10 KB)", () => {
  it.each(["unknown field", "content part", "tools"] as const)(
    "refuses one in %s with 400 json_too_deep naming the limit",
    async (where) => {
      const body = deepChatBody("echo", where, where === "tools" ? nestedObjects(5_000) : nestedArrays(5_000));
      const answer = await chat(proxy, body, { "x-request-id": `deep-${where.replace(" ", "-")}` });
      expect(answer.status, answer.text).toBe(400);
      const error = openAIError(answer);
      expect(error.type).toBe("invalid_request_error");
      expect(error.code).toBe("json_too_deep");
      expect(error.message).toContain("64");
      expect(error.message).toContain("max_json_depth");
      expect(answer.headers.get("x-request-id")).toBe(`deep-${where.replace(" ", "-")}`);
    },
  );

  it("answers 400 (not 502) through a deployment that renames the model, and sends nothing upstream", async () => {
    const before = upstream.requests.length;
    const answer = await chat(proxy, deepChatBody("renamed", "unknown field", nestedArrays(5_000)));
    expect(answer.status, answer.text).toBe(400);
    expect(openAIError(answer).code).toBe("json_too_deep");
    expect(upstream.requests.length).toBe(before);
    // The deployment itself works: a normal body goes through it.
    const normal = await chat(proxy, chatBody("renamed"));
    expect(normal.status, normal.text).toBe(200);
    expect(upstream.requests.at(-1)!.body.model).toBe("upstream-name");
  });

  it("refuses one on /v1/embeddings and one sent as text/plain", async () => {
    const embeddings = await send(`${proxy.baseURL}/embeddings`, {
      body: `{"model":"echo","input":${nestedArrays(5_000)}}`,
    });
    expect(embeddings.status, embeddings.text).toBe(400);
    expect(openAIError(embeddings).code).toBe("json_too_deep");
    const plain = await send(`${proxy.baseURL}/chat/completions`, {
      body: deepChatBody("echo", "unknown field", nestedArrays(5_000)),
      headers: { "content-type": "text/plain" },
    });
    expect(plain.status, plain.text).toBe(400);
    expect(openAIError(plain).code).toBe("json_too_deep");
  });

  it("refuses one on POST /internal/usage with a failed envelope", async () => {
    const answer = await send(`${proxy.url}/internal/usage`, {
      body: `{"model":"m","metadata":${nestedObjects(5_000)}}`,
    });
    expect(answer.status, answer.text).toBe(400);
    const envelope = errorEnvelopeSchema.parse(answer.json);
    expect(envelope.error.code).toBe("json_too_deep");
    expect(envelope.error.message).toContain("64");
    expect(answer.headers.get("x-request-id")).toMatch(/^req_/);
  });
});

describe("the limit", () => {
  it("lets 64 levels through and refuses 65 (the default)", async () => {
    // The top-level object is level 1, so 63 nested arrays inside it make 64.
    const ok = await chat(proxy, deepChatBody("echo", "unknown field", nestedArrays(63)));
    expect(ok.status, ok.text).toBe(200);
    const tooDeep = await chat(proxy, deepChatBody("echo", "unknown field", nestedArrays(64)));
    expect(tooDeep.status, tooDeep.text).toBe(400);
    expect(openAIError(tooDeep).code).toBe("json_too_deep");
  });

  it("does not count brackets inside strings (escaped quotes included)", async () => {
    const content = `a \\" ${"[{".repeat(5_000)}`;
    const answer = await chat(proxy, `{"model":"echo","messages":[{"role":"user","content":"${content}"}]}`);
    expect(answer.status, answer.text).toBe(200);
  });

  it("follows max_json_depth", async () => {
    const shallow = await startTestProxy({ maxJsonDepth: 8 });
    try {
      // object (1) → messages (2) → message (3) → x (4..8): 5 nested arrays in a message field make 8 levels.
      const ok = await chat(
        shallow,
        `{"model":"echo","messages":[{"role":"user","content":"hi","x":${nestedArrays(5)}}]}`,
      );
      expect(ok.status, ok.text).toBe(200);
      const refused = await chat(
        shallow,
        `{"model":"echo","messages":[{"role":"user","content":"hi","x":${nestedArrays(6)}}]}`,
      );
      expect(refused.status, refused.text).toBe(400);
      const error = openAIError(refused);
      expect(error.code).toBe("json_too_deep");
      expect(error.message).toContain("8 levels");
    } finally {
      await shallow.close();
    }
  });
});

describe("jsonNestingExceeds (the scan)", () => {
  it.each([
    ['{"a":"[[[\\\\"}', false, "a string ending in an escaped backslash"],
    ['{"a":"\\\\\\"[[["}', false, "an escaped quote after an escaped backslash"],
    ['{"a":"\\\\"}[[[[', true, "brackets after a string that ends in a backslash"],
    ['{"a":[{"b":[]}]}', true, "four levels"],
    ['{"a":[{"b":1}]}', false, "three levels"],
    ['"unterminated [[[[', false, "brackets inside a string that never ends"],
  ])("%s with a limit of 3 → %s (%s)", (text, exceeds) => {
    expect(jsonNestingExceeds(text, 3)).toBe(exceeds);
  });
});
