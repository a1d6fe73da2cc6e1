/**
 * A key's tokens-per-minute limit reserves each request's estimated tokens up front, whatever protocol the body
 * is in: a prompt in Gemini's `contents`, Ollama's `prompt` or legacy completions' `prompt` counts (from the size
 * of the body), and the protocol's own output limit (`generationConfig.maxOutputTokens`, `options.num_predict`,
 * `max_tokens`) is added. A request whose estimate alone is over the limit is refused with 429 before any
 * upstream call, in the route's error shape; a small one is served.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "../helpers/exchanges.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy;
let key: string;

beforeAll(async () => {
  proxy = await startTestProxy();
  key = (await proxy.server.ctx.tenancy.keys.create({ tenant: "acme", tpm: 300 })).plaintext;
});
afterAll(async () => {
  await proxy.close();
});

const longText = "word ".repeat(400); // 2,000 characters: about 500 tokens, over the key's 300

const cases = [
  {
    name: "Gemini generateContent",
    path: "/v1beta/models/echo:generateContent",
    body: (text: string) => ({ contents: [{ role: "user", parts: [{ text }] }] }),
    big: (body: Record<string, unknown>) => ({ ...body, generationConfig: { maxOutputTokens: 400 } }),
    refusal: (json: unknown) => expect(json).toMatchObject({ error: { code: 429, status: "RESOURCE_EXHAUSTED" } }),
  },
  {
    name: "Ollama generate",
    path: "/api/generate",
    body: (text: string) => ({ model: "echo", prompt: text, stream: false }),
    big: (body: Record<string, unknown>) => ({ ...body, options: { num_predict: 400 } }),
    refusal: (json: unknown) => expect(json).toMatchObject({ error: expect.any(String) as unknown }),
  },
  {
    name: "legacy completions",
    path: "/v1/completions",
    body: (text: string) => ({ model: "echo", prompt: text }),
    big: (body: Record<string, unknown>) => ({ ...body, max_tokens: 400 }),
    refusal: (json: unknown) => expect(json).toMatchObject({ error: { code: "rate_limit_exceeded" } }),
  },
] as const;

describe("tpm reservations of bodies in other protocols", () => {
  it.each(cases)("$name: a long prompt is refused up front, a short one is served", async (c) => {
    const headers = { authorization: `Bearer ${key}` };
    const refused = await send(`${proxy.url}${c.path}`, { body: c.body(longText), headers });
    expect(refused.status, refused.text).toBe(429);
    c.refusal(refused.json);

    const short = await send(`${proxy.url}${c.path}`, { body: c.body("Hi"), headers });
    expect(short.status, short.text).toBe(200);

    // The output limit counts too: a short prompt asking for 400 tokens is over 300.
    const greedy = await send(`${proxy.url}${c.path}`, { body: c.big(c.body("Hi")), headers });
    expect(greedy.status, greedy.text).toBe(429);
  });
});
