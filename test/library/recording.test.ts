/**
 * In-process calls are recorded like server requests: in the same logs.db,
 * threaded into the same conversations (a conversation may go on from the
 * server to the library and back), failures included.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type ChatMessage, type LLMClient } from "../../src/index.js";
import { rows } from "../helpers/db.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { libraryConfig, settled } from "./library-helpers.js";
import { until } from "../helpers/until.js";
import { drain } from "../helpers/drain.js";

let proxy: TestProxy;
let inProcess: LLMClient;
let overHttp: LLMClient;

beforeAll(async () => {
  proxy = await startTestProxy();
  inProcess = createClient({ config: libraryConfig(proxy.dbPath) });
  overHttp = createClient({ baseURL: proxy.baseURL });
});
afterAll(async () => {
  await inProcess.close();
  await overHttp.close();
  await proxy.close();
});

interface Row {
  id: string;
  conversation_id: string;
  prompt: string;
  response: string;
  status: string;
  http_status: number;
  provider: string | null;
  stream: number;
  input_tokens: number;
}

function recorded(id: string): Row | undefined {
  return rows<Row>(
    proxy.dbPath,
    `select r.id, r.conversation_id, r.prompt, r.response, r.input_tokens, x.status, x.http_status, x.provider, x.stream
       from responses r join llm_relay_exchanges x on x.response_id = r.id where r.id = ?`,
    id,
  )[0];
}

/** Waits until the server's recorder (a worker thread, batched) has written `n` exchanges. */
async function serverRecords(n: number): Promise<void> {
  await until(
    `the server to record ${n} exchanges`,
    () => (rows<{ n: number }>(proxy.dbPath, "select count(*) as n from llm_relay_exchanges")[0]?.n ?? 0) >= n,
  );
}

describe("in-process recording", () => {
  it("records each call before it resolves, threaded into one conversation", async () => {
    const history: ChatMessage[] = [{ role: "system", content: "You are terse." }];
    const ids: string[] = [];
    for (const text of ["first question", "second question"]) {
      history.push({ role: "user", content: text });
      const response = await settled(inProcess.generateCompletionWithMessages(history));
      history.push({ role: "assistant", content: response.content });
      ids.push(response.id);
      expect(recorded(response.id)).toMatchObject({
        prompt: text,
        response: text,
        status: "ok",
        http_status: 200,
        provider: "echo",
        stream: 0,
      });
    }
    history.push({ role: "user", content: "third, streamed" });
    const stream = inProcess.streamCompletion(history);
    await drain(stream);
    const streamed = await settled(stream.response);
    ids.push(streamed.id);
    expect(recorded(streamed.id)).toMatchObject({ response: "third, streamed", status: "ok", stream: 1 });
    expect(recorded(streamed.id)?.input_tokens).toBe(streamed.inputTokens);
    expect(new Set(ids.map((id) => recorded(id)?.conversation_id)).size).toBe(1);
  });

  it("continues a conversation begun through the server, and the server continues it", async () => {
    const before = rows<{ n: number }>(proxy.dbPath, "select count(*) as n from llm_relay_exchanges")[0]!.n;
    const history: ChatMessage[] = [{ role: "user", content: "over http" }];
    const first = await settled(overHttp.generateCompletionWithMessages(history));
    history.push({ role: "assistant", content: first.content }, { role: "user", content: "in process" });
    await serverRecords(before + 1);
    const second = await settled(inProcess.generateCompletionWithMessages(history));
    history.push({ role: "assistant", content: second.content }, { role: "user", content: "over http again" });
    const third = await settled(overHttp.generateCompletionWithMessages(history));
    await serverRecords(before + 3);
    const conversations = rows<{ conversation_id: string; prompt: string }>(
      proxy.dbPath,
      "select conversation_id, prompt from responses where prompt in ('over http', 'in process', 'over http again')",
    );
    expect(conversations).toHaveLength(3);
    expect(new Set(conversations.map((c) => c.conversation_id)).size).toBe(1);
    expect(recorded(second.id)?.status).toBe("ok");
    expect(third.success).toBe(true);
  });

  it("records failures: unknown model and a cancelled stream", async () => {
    const strict = createClient({ config: { ...libraryConfig(proxy.dbPath), defaultModel: null } });
    const unknown = await settled(strict.generateCompletion("where to?", { model: "nowhere" }));
    expect(recorded(unknown.id)).toMatchObject({ status: "error", http_status: 404, provider: null });

    const controller = new AbortController();
    const stream = strict.streamCompletion("one two three four five", { model: "echo", signal: controller.signal });
    const received: string[] = [];
    for await (const delta of stream) {
      received.push(delta);
      controller.abort();
    }
    expect(received.length, "deltas read before the abort").toBeGreaterThan(0);
    const cancelled = await settled(stream.response);
    expect(cancelled.success).toBe(false);
    expect(recorded(cancelled.id)).toMatchObject({
      status: "cancelled",
      http_status: 499,
      provider: "echo",
      stream: 1,
    });
    await strict.close();
  });
});
