/**
 * A turn as the browser shows it, from a request in each inbound protocol: each is sent over real
 * HTTP to the proxy (echo provider), recorded (its body as received is `prompt_json`), and read back
 * through the SQLite BrowseStore as chat messages.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { openBrowseStore } from "../../src/browse/open.js";
import type { BrowseStore, UiMessage } from "../../src/browse/types.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy;
let browse: BrowseStore;

/** Each protocol's path, request body, and the turn input the browser must show. */
const CASES: { protocol: string; path: string; body: unknown; input: UiMessage[] }[] = [
  {
    protocol: "responses",
    path: "/v1/responses",
    body: {
      model: "echo",
      instructions: "be terse",
      input: [{ role: "user", content: [{ type: "input_text", text: "responses hello" }] }],
    },
    input: [
      { role: "system", parts: [{ type: "text", text: "be terse" }] },
      { role: "user", parts: [{ type: "text", text: "responses hello" }] },
    ],
  },
  {
    protocol: "gemini",
    path: "/v1beta/models/echo:generateContent",
    body: {
      systemInstruction: { parts: [{ text: "be kind" }] },
      contents: [
        {
          role: "user",
          parts: [{ text: "gemini hello" }, { inlineData: { mimeType: "image/jpeg", data: "/9j/4AAQ" } }],
        },
      ],
    },
    input: [
      { role: "system", parts: [{ type: "text", text: "be kind" }] },
      {
        role: "user",
        parts: [
          { type: "text", text: "gemini hello" },
          { type: "image", url: "data:image/jpeg;base64,/9j/4AAQ" },
        ],
      },
    ],
  },
  {
    protocol: "ollama",
    path: "/api/chat",
    body: {
      model: "echo",
      stream: false,
      messages: [{ role: "user", content: "ollama hello", images: ["iVBORw0KGgo="] }],
    },
    input: [
      {
        role: "user",
        parts: [
          { type: "text", text: "ollama hello" },
          { type: "image", url: "data:image/png;base64,iVBORw0KGgo=" },
        ],
      },
    ],
  },
  {
    protocol: "completions",
    path: "/v1/completions",
    body: { model: "echo", prompt: "completions hello", max_tokens: 8 },
    input: [{ role: "user", parts: [{ type: "text", text: "completions hello" }] }],
  },
];

beforeAll(async () => {
  proxy = await startTestProxy();
  for (const c of CASES) {
    const res = await fetch(`${proxy.url}${c.path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(c.body),
    });
    expect(res.status, `${c.path}: ${await res.clone().text()}`).toBe(200);
    await res.arrayBuffer();
  }
  await proxy.server.ctx.recorder.flush();
  browse = await openBrowseStore({ dbPath: proxy.dbPath });
});
afterAll(async () => {
  await browse?.close();
  await proxy.close();
});

it.each(CASES.map((c) => [c.protocol, c] as const))("shows a %s request as chat", async (protocol, c) => {
  const page = await browse.exchanges({ protocol }, "newest", {});
  expect(page.items).toHaveLength(1);
  const detail = (await browse.exchange(page.items[0]!.id))!;
  expect(detail.turn.input).toEqual(c.input);
  expect(detail.turn.output?.role).toBe("assistant");
  expect(detail.turn.output?.parts.length).toBeGreaterThan(0);
  const conversation = (await browse.conversation(page.items[0]!.conversationId!))!;
  expect(conversation.turns.map((t) => t.input)).toEqual([c.input]);
});
