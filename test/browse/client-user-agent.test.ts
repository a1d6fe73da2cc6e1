/**
 * The client's `User-Agent` is recorded with each exchange (`llm_relay_exchanges.client`, at most
 * 256 characters) and shown by the browser: requests in three protocols sent over real HTTP to the
 * proxy (echo provider), then read back through the SQLite BrowseStore on its logs.db.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { openBrowseStore } from "../../src/browse/open.js";
import type { BrowseStore } from "../../src/browse/types.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy;
let browse: BrowseStore | null = null;

beforeAll(async () => {
  proxy = await startTestProxy();
});
afterAll(async () => {
  await browse?.close();
  await proxy.close();
});

/** POSTs `body` as JSON to `path` with these headers; the answer must be 200. */
async function post(path: string, body: unknown, headers: Record<string, string>): Promise<void> {
  const res = await fetch(`${proxy.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  await res.arrayBuffer();
}

it("records each exchange's User-Agent, cut at 256 characters, and none when absent", async () => {
  const long = `agent/${"x".repeat(300)}`;
  await post(
    "/v1/chat/completions",
    { model: "echo", messages: [{ role: "user", content: "one" }] },
    {
      "user-agent": "aider/0.86 (linux)",
      "x-request-id": "ua-chat",
    },
  );
  await post(
    "/v1/messages",
    { model: "echo", max_tokens: 16, messages: [{ role: "user", content: "two" }] },
    { "user-agent": long, "x-request-id": "ua-messages", "anthropic-version": "2023-06-01" },
  );
  // fetch sends its own User-Agent unless told otherwise: an empty one counts as none.
  await post(
    "/v1/chat/completions",
    { model: "echo", messages: [{ role: "user", content: "three" }] },
    {
      "user-agent": "",
      "x-request-id": "ua-none",
    },
  );
  await proxy.server.ctx.recorder.flush();

  browse = await openBrowseStore({ dbPath: proxy.dbPath });
  const page = await browse.exchanges({}, "newest", { limit: 10 });
  const byPrompt = new Map(page.items.map((e) => [e.promptPreview, e]));
  expect(byPrompt.get("one")).toMatchObject({ client: "aider/0.86 (linux)", protocol: "chat" });
  expect(byPrompt.get("two")).toMatchObject({ client: long.slice(0, 256), protocol: "messages" });
  expect(byPrompt.get("three")).toMatchObject({ client: null, protocol: "chat" });
  const conversations = await browse.conversations({ search: "two" }, {});
  expect(conversations.items.map((c) => c.client)).toEqual([long.slice(0, 256)]);
});
