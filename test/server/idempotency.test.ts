/**
 * `Idempotency-Key` on `/v1/chat/completions` and `/v1/embeddings`, through
 * the real proxy (HTTP on 127.0.0.1, a SQLite logs.db) to fake upstreams
 * that count their calls: a retry gets the stored answer (JSON byte for
 * byte, a stream as the same SSE events) without a second upstream call or
 * a second record; a retry while the first runs gets 409; another body
 * under the same key gets 422; a failed first attempt is not kept; answers
 * expire after `idempotency_ttl_ms`; requests without the header never
 * touch the store.
 */
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { rows } from "../helpers/db.js";
import { startFakeEmbeddings, type FakeEmbeddings } from "../helpers/fake-embeddings.js";
import { DEFAULT_TEXT, startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { readSse } from "../helpers/sse.js";
import { until } from "../helpers/until.js";
import { match } from "../helpers/matchers.js";

const REPLAY = "x-llm-relay-idempotent-replay";

let fake: FakeUpstream;
let embeddings: FakeEmbeddings;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  embeddings = await startFakeEmbeddings();
  proxy = await startTestProxy({
    models: {
      local: fakeDeployment(fake.baseUrl, { model: "stories260K" }),
      // Gives up on a stalled upstream quickly (504), for the in-flight test.
      impatient: fakeDeployment(fake.baseUrl, { model: "stories260K", timeout_ms: 400 }),
      "embed-small": fakeDeployment(embeddings.baseUrl, { model: "text-embedding-3-small" }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
  await embeddings.close();
});
beforeEach(() => {
  fake.behave({ kind: "ok" });
  fake.requests.length = 0;
  embeddings.behave({ kind: "ok" });
  embeddings.requests.length = 0;
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

let keys = 0;
/** A key no other test uses. */
function newKey(): string {
  return `idem-${process.pid}-${++keys}-${Date.now()}`;
}

const messages = [
  { role: "system", content: "You tell short stories." },
  { role: "user", content: "Once upon a time" },
];

/** POSTs a JSON body (given as text, sent as is) with an optional key. */
function post(path: string, body: string, key?: string, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key !== undefined) headers["idempotency-key"] = key;
  return fetch(`${proxy.baseURL}${path}`, { method: "POST", headers, body, ...(signal ? { signal } : {}) });
}

/** Status, headers and text of a POST. */
async function postText(
  path: string,
  body: string,
  key?: string,
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await post(path, body, key);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Rows of llm's `responses` table (one per recorded exchange) once the recorder has written everything queued. */
async function responseRows(): Promise<{ id: string; response: string }[]> {
  await proxy.server.ctx.recorder.flush();
  return rows(proxy.dbPath, "SELECT id, response FROM responses ORDER BY id");
}

describe("Idempotency-Key on /v1/chat/completions", () => {
  it("replays a non-streamed answer byte for byte, without a second upstream call or record", async () => {
    const key = newKey();
    const before = (await responseRows()).length;
    const first = await postText("/chat/completions", JSON.stringify({ model: "local", messages }), key);
    expect(first.status).toBe(200);
    expect(first.headers.get(REPLAY)).toBeNull();

    // The same request, serialised with another key order and spacing, is the same request.
    const second = await postText("/chat/completions", JSON.stringify({ messages, model: "local" }, null, 2), key);
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(second.headers.get("content-type")).toBe(first.headers.get("content-type"));
    expect(second.headers.get(REPLAY)).toBe("true");
    // The replay says what answered the first time.
    expect(first.headers.get("x-llm-relay-deployment")).toBe("local");
    expect(second.headers.get("x-llm-relay-deployment")).toBe("local");
    expect(second.headers.get("x-llm-relay-attempts")).toBe("1");

    // The SDK reads the replay like any answer.
    const viaSdk = await client.chat.completions
      .create(
        { model: "local", messages: messages as OpenAI.ChatCompletionMessageParam[] },
        { headers: { "Idempotency-Key": key } },
      )
      .withResponse();
    expect(viaSdk.response.headers.get(REPLAY)).toBe("true");
    expect(viaSdk.data.id).toBe((JSON.parse(first.text) as { id: string }).id);
    expect(viaSdk.data.choices[0]!.message.content).toBe(DEFAULT_TEXT);

    expect(fake.requests).toHaveLength(1);
    const recorded = await responseRows();
    expect(recorded).toHaveLength(before + 1);
    expect(recorded.at(-1)!.response).toBe(DEFAULT_TEXT);
  });

  it("replays a streamed answer as the same SSE events, ending with [DONE]", async () => {
    const key = newKey();
    const before = (await responseRows()).length;
    const body = JSON.stringify({ model: "local", messages, stream: true });
    const first = await post("/chat/completions", body, key);
    expect(first.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readSse(first);
    expect(events.at(-1)).toBe("[DONE]");
    expect(events.length).toBeGreaterThan(2);

    const second = await post("/chat/completions", body, key);
    expect(second.status).toBe(200);
    expect(second.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(second.headers.get(REPLAY)).toBe("true");
    expect(first.headers.get("x-llm-relay-deployment")).toBe("local");
    expect(second.headers.get("x-llm-relay-deployment")).toBe("local");
    expect(second.headers.get("x-llm-relay-attempts")).toBe("1");
    expect(await readSse(second)).toEqual(events);

    // The SDK streams the replay like a live answer.
    const stream = await client.chat.completions.create(
      { model: "local", messages: messages as OpenAI.ChatCompletionMessageParam[], stream: true },
      { headers: { "Idempotency-Key": key } },
    );
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(DEFAULT_TEXT);

    expect(fake.requests).toHaveLength(1);
    expect(await responseRows()).toHaveLength(before + 1);
  });

  it("answers 409 idempotency_in_progress while the first request runs, and lets a retry run once it failed", async () => {
    const key = newKey();
    const body = JSON.stringify({ model: "impatient", messages });
    fake.enqueue({ kind: "stall" });
    const first = postText("/chat/completions", body, key);
    await until("the first request upstream", () => fake.requests.length === 1, { timeoutMs: 5_000 });

    const duplicate = await postText("/chat/completions", body, key);
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get("retry-after")).toBe("1");
    expect(JSON.parse(duplicate.text)).toEqual({
      error: {
        message: match.stringContaining("still being processed"),
        type: "invalid_request_error",
        param: null,
        code: "idempotency_in_progress",
      },
    });
    expect(fake.requests).toHaveLength(1);

    // The stalled upstream times out: the first attempt fails (504) and its key is released.
    expect((await first).status).toBe(504);
    const retry = await postText("/chat/completions", body, key);
    expect(retry.status).toBe(200);
    expect(retry.headers.get(REPLAY)).toBeNull();
    expect(fake.requests).toHaveLength(2);
  });

  it("answers 422 idempotency_key_reused for another body under the same key", async () => {
    const key = newKey();
    expect((await postText("/chat/completions", JSON.stringify({ model: "local", messages }), key)).status).toBe(200);
    const other = await postText(
      "/chat/completions",
      JSON.stringify({ model: "local", messages, temperature: 0.2 }),
      key,
    );
    expect(other.status).toBe(422);
    expect(JSON.parse(other.text)).toEqual({
      error: {
        message: match.stringContaining("different request"),
        type: "invalid_request_error",
        param: null,
        code: "idempotency_key_reused",
      },
    });
    // The same key on another endpoint is another request too.
    const elsewhere = await postText("/embeddings", JSON.stringify({ model: "embed-small", input: "x" }), key);
    expect(elsewhere.status).toBe(422);
    expect(fake.requests).toHaveLength(1);
    expect(embeddings.requests).toHaveLength(0);
  });

  it("does not keep a failed first attempt (upstream 500): the retry calls the upstream again, and is then kept", async () => {
    const key = newKey();
    const body = JSON.stringify({ model: "local", messages });
    fake.enqueue({
      kind: "status",
      status: 500,
      body: JSON.stringify({ error: { code: 500, message: "out of memory", type: "server_error" } }),
    });
    const failed = await postText("/chat/completions", body, key);
    expect(failed.status).toBe(500);

    const retry = await postText("/chat/completions", body, key);
    expect(retry.status).toBe(200);
    expect(retry.headers.get(REPLAY)).toBeNull();
    const again = await postText("/chat/completions", body, key);
    expect(again.headers.get(REPLAY)).toBe("true");
    expect(again.text).toBe(retry.text);
    expect(fake.requests).toHaveLength(2);
  });

  it("does not keep a stream cut by the upstream: the retry streams again", async () => {
    const key = newKey();
    const body = JSON.stringify({ model: "local", messages, stream: true });
    fake.enqueue({ kind: "reset-after", chunks: 2 });
    const cut = await readSse(await post("/chat/completions", body, key));
    expect(cut).not.toContain("[DONE]");

    const retry = await post("/chat/completions", body, key);
    expect(retry.headers.get(REPLAY)).toBeNull();
    expect((await readSse(retry)).at(-1)).toBe("[DONE]");
    expect(fake.requests).toHaveLength(2);
  });

  it("scopes keys to the tenant: two API keys of different tenants may use the same Idempotency-Key", async () => {
    // Its own proxy: creating API keys turns authentication on.
    const keyed = await startTestProxy({ models: { local: fakeDeployment(fake.baseUrl, { model: "stories260K" }) } });
    try {
      const teamA = (await keyed.server.ctx.tenancy.keys.create({ tenant: "team-a" })).plaintext;
      const teamB = (await keyed.server.ctx.tenancy.keys.create({ tenant: "team-b" })).plaintext;
      const key = newKey();
      const send = async (apiKey: string) => {
        const response = await fetch(`${keyed.baseURL}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}`, "idempotency-key": key },
          body: JSON.stringify({ model: "local", messages }),
        });
        return { status: response.status, replay: response.headers.get(REPLAY), text: await response.text() };
      };
      const a1 = await send(teamA);
      const b1 = await send(teamB);
      const a2 = await send(teamA);
      expect([a1.status, b1.status, a2.status]).toEqual([200, 200, 200]);
      expect([a1.replay, b1.replay, a2.replay]).toEqual([null, null, "true"]);
      expect(b1.text).not.toBe(a1.text);
      expect(a2.text).toBe(a1.text);
      expect(fake.requests).toHaveLength(2);
    } finally {
      await keyed.close();
    }
  });

  it("refuses an empty or over-long key with 400 before calling the upstream; 255 characters are fine", async () => {
    const body = JSON.stringify({ model: "local", messages });
    const long = await postText("/chat/completions", body, "k".repeat(256));
    expect(long.status).toBe(400);
    expect((JSON.parse(long.text) as { error: { code: string } }).error.code).toBe("invalid_idempotency_key");
    const empty = await postText("/chat/completions", body, "");
    expect(empty.status).toBe(400);
    expect(fake.requests).toHaveLength(0);
    expect((await postText("/chat/completions", body, `${"k".repeat(240)}${newKey()}`.slice(-255))).status).toBe(200);
  });

  it("requests without the header never touch the idempotency store", async () => {
    const store = proxy.server.ctx.tenancy.idempotency;
    const calls = [vi.spyOn(store, "begin"), vi.spyOn(store, "complete"), vi.spyOn(store, "release")];
    const body = JSON.stringify({ model: "local", messages });
    const a = await postText("/chat/completions", body);
    const b = await postText("/chat/completions", body);
    expect(a.headers.get(REPLAY)).toBeNull();
    expect(b.text).not.toBe(a.text); // two upstream answers (ids chatcmpl-fake1, -fake2)
    await readSse(await post("/chat/completions", JSON.stringify({ model: "local", messages, stream: true })));
    expect((await postText("/embeddings", JSON.stringify({ model: "embed-small", input: "x" }))).status).toBe(200);
    expect(fake.requests).toHaveLength(3);
    for (const spy of calls) expect(spy).not.toHaveBeenCalled();
  });
});

describe("Idempotency-Key on /v1/embeddings", () => {
  it("replays the answer byte for byte with one upstream call and one record", async () => {
    const key = newKey();
    await proxy.server.ctx.recorder.flush();
    const before = rows(proxy.dbPath, "SELECT id FROM llm_relay_embeddings").length;
    const body = JSON.stringify({ model: "embed-small", input: ["one", "two"], encoding_format: "float" });
    const first = await postText("/embeddings", body, key);
    expect(first.status).toBe(200);
    const second = await postText("/embeddings", body, key);
    expect(second.status).toBe(200);
    expect(second.headers.get(REPLAY)).toBe("true");
    expect(second.text).toBe(first.text);
    expect(second.text).toBe(embeddings.requests[0]!.answer);

    const viaSdk = await client.embeddings.create(
      { model: "embed-small", input: ["one", "two"], encoding_format: "float" },
      { headers: { "Idempotency-Key": key } },
    );
    expect(viaSdk.data).toHaveLength(2);
    expect(embeddings.requests).toHaveLength(1);
    await proxy.server.ctx.recorder.flush();
    expect(rows(proxy.dbPath, "SELECT id FROM llm_relay_embeddings")).toHaveLength(before + 1);
  });
});

/** The TTL of the tests below, in ms; the proxy reads the clock through `Date`, which they move past it. */
const TTL_MS = 60_000;

describe("idempotency_ttl_ms", () => {
  beforeEach(() => {
    // Only `Date` is faked (timers, sockets and the proxy's own timers run for real), and it keeps
    // moving with real time: the tests jump it past the TTL instead of sleeping through one.
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
  });

  it("runs the request again once the stored answer expired", async () => {
    const short = await startTestProxy({
      idempotencyTtlMs: TTL_MS,
      models: { local: fakeDeployment(fake.baseUrl, { model: "stories260K" }) },
    });
    try {
      const key = newKey();
      const body = JSON.stringify({ model: "local", messages });
      const send = () =>
        fetch(`${short.baseURL}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": key },
          body,
        });
      const first = await send();
      expect(first.status).toBe(200);
      const firstText = await first.text();
      // Within the TTL the answer is replayed; a moment after it, the request runs again.
      const replay = await send();
      expect(replay.headers.get(REPLAY)).toBe("true");
      expect(await replay.text()).toBe(firstText);
      vi.setSystemTime(Date.now() + TTL_MS + 1);
      const later = await send();
      expect(later.status).toBe(200);
      expect(later.headers.get(REPLAY)).toBeNull();
      expect(await later.text()).not.toBe(firstText);
      expect(fake.requests).toHaveLength(2);
    } finally {
      await short.close();
    }
  });

  it("deletes expired records on its own, without the key coming again", async () => {
    const short = await startTestProxy(
      { idempotencyTtlMs: TTL_MS, models: { local: fakeDeployment(fake.baseUrl, { model: "stories260K" }) } },
      { idempotencyPurgeIntervalMs: 20 },
    );
    try {
      const answered = await fetch(`${short.baseURL}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": newKey() },
        body: JSON.stringify({ model: "local", messages }),
      });
      expect(answered.status).toBe(200);
      await answered.text();
      expect(rows(short.dbPath, "SELECT state FROM llm_relay_idempotency")).toEqual([{ state: "done" }]);
      // Purges before the TTL keep the record; the first purge after it deletes it.
      const purge = vi.spyOn(short.server.ctx.tenancy.idempotency, "purgeExpired");
      await until("two purges within the TTL", () => purge.mock.calls.length >= 2);
      expect(rows(short.dbPath, "SELECT state FROM llm_relay_idempotency")).toEqual([{ state: "done" }]);
      vi.setSystemTime(Date.now() + TTL_MS + 1);
      await until(
        "the expired record purged",
        () => rows(short.dbPath, "SELECT state FROM llm_relay_idempotency").length === 0,
      );
    } finally {
      await short.close();
    }
  });
});
