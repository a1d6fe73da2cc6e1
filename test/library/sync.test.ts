/**
 * The blocking forms give the same answers as the async ones — against
 * `echo` and the fake upstream, failures included. The fake runs in a child
 * process: a blocking call blocks this thread's event loop.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  closeDefaultClient,
  createClient,
  generateCompletion,
  generateCompletionSync,
  generateCompletionWithMessages,
  generateCompletionWithMessagesSync,
  type ChatMessage,
  type LLMClient,
  type SyncCompletionOptions,
} from "../../src/index.js";
import { DEFAULT_TEXT } from "../helpers/fake-openai-upstream.js";
import { rows } from "../helpers/db.js";
import { fakeDeployment } from "../helpers/proxy.js";
import { startFakeUpstreamProcess, type FakeUpstreamProcess } from "./fake-upstream-process.js";
import { comparable, expectWellFormed, libraryConfig, settled, tempDb } from "./library-helpers.js";

let upstream: FakeUpstreamProcess;
const db = tempDb();
const savedEnv = { ...process.env };

beforeAll(async () => {
  upstream = await startFakeUpstreamProcess();
});
afterAll(async () => {
  await closeDefaultClient();
  await upstream.close();
  db.remove();
});
afterEach(async () => {
  await upstream.behave({ kind: "ok" });
  for (const name of ["LLM_TEMPERATURE", "LLM_MODEL_NAME", "LLM_RELAY_DB"]) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

const messages: ChatMessage[] = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Say something" },
];

/** Runs the same call both ways; checks both are well formed and agree. */
async function both(client: LLMClient, prompt: string, options: SyncCompletionOptions) {
  const sync = client.generateCompletionSync(prompt, options);
  const async = await settled(client.generateCompletion(prompt, options));
  expectWellFormed(sync);
  expectWellFormed(async);
  expect(comparable(sync)).toEqual(comparable(async));
  const syncMessages = client.generateCompletionWithMessagesSync(messages, options);
  const asyncMessages = await settled(client.generateCompletionWithMessages(messages, options));
  expect(comparable(syncMessages)).toEqual(comparable(asyncMessages));
  return sync;
}

describe.each([
  ["in-process", () => createClient({ config: libraryConfig(db.dbPath, { fake: fakeDeployment(upstream.baseUrl) }) })],
  ["http", () => createClient({ baseURL: upstream.baseUrl })],
] as const)("%s client", (name, make) => {
  let client: LLMClient;
  beforeAll(() => {
    client = make();
  });
  afterAll(() => client.close());

  it("agrees on success", async () => {
    if (name === "in-process")
      expect(await both(client, "Hello sync", { model: "echo" })).toMatchObject({
        success: true,
        content: "Hello sync",
      });
    expect(await both(client, "Hello sync", { model: "fake" })).toMatchObject({
      success: true,
      content: DEFAULT_TEXT,
      inputTokens: 46,
      outputTokens: 12,
    });
  });

  it("agrees on failures", async () => {
    await upstream.behave({
      kind: "status",
      status: 500,
      body: '{"error":{"message":"model crashed","type":"server_error"}}',
    });
    expect((await both(client, "Hi", { model: "fake" })).error).toContain("model crashed");
    await upstream.behave({ kind: "stall" });
    expect((await both(client, "Hi", { model: "fake", timeoutMs: 300 })).error).toBe("Timed out after 300 ms");
    await upstream.behave({ kind: "ok" });
    expect((await both(client, "Hi", { model: "fake", maxTokens: 0 })).error).toContain("maxTokens");
    if (name === "in-process")
      expect((await both(client, "Hi", { model: "no-such-model" })).error).toContain("model_not_found");
  });

  it("reads LLM_TEMPERATURE at the time of the call", async () => {
    process.env.LLM_TEMPERATURE = "warm";
    expect((await both(client, "Hi", { model: "fake" })).error).toBe(
      "Invalid argument: LLM_TEMPERATURE must be a number, got 'warm'",
    );
  });

  it("refuses a signal", () => {
    const response = client.generateCompletionSync("Hi", {
      model: "fake",
      signal: new AbortController().signal,
    } as SyncCompletionOptions);
    expectWellFormed(response);
    expect(response.error).toContain("signal is not supported");
  });
});

describe("top-level functions (default client)", () => {
  it("agree with the async ones against echo, and both are recorded", async () => {
    process.env.LLM_RELAY_DB = db.dbPath;
    process.env.LLM_MODEL_NAME = "echo";
    const sync = generateCompletionSync("Default client");
    const async = await settled(generateCompletion("Default client"));
    expect(sync).toMatchObject({ success: true, content: "Default client", modelUsed: "echo" });
    expect(comparable(sync)).toEqual(comparable(async));
    const syncMessages = generateCompletionWithMessagesSync(messages);
    expect(comparable(syncMessages)).toEqual(comparable(await settled(generateCompletionWithMessages(messages))));
    const recorded = rows<{ id: string }>(
      db.dbPath,
      "select response_id as id from llm_relay_exchanges where response_id in (?, ?)",
      sync.id,
      async.id,
    );
    expect(recorded).toHaveLength(2);
    process.env.LLM_TEMPERATURE = "warm";
    expect(generateCompletionSync("x").error).toContain("LLM_TEMPERATURE");
  });
});
