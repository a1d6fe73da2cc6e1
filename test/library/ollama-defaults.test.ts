/**
 * The Ollama defaults (`top_p` 0.9, `repeat_penalty` 1.1) apply when a call
 * routes to Ollama — provider kind `ollama`, or an openai-compatible
 * base_url on port 11434 — and the caller gave none.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/index.js";
import { isOllamaDeployment, withProviderDefaults } from "../../src/library/ollama-defaults.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment } from "../helpers/proxy.js";
import { libraryConfig, settled, tempDb } from "./library-helpers.js";

const body = { model: "m", messages: [{ role: "user" as const, content: "hi" }] };

describe("the rule", () => {
  it("recognises Ollama deployments", () => {
    expect(isOllamaDeployment({ provider: "ollama" })).toBe(true);
    expect(isOllamaDeployment({ provider: "openai-compatible", base_url: "http://127.0.0.1:11434/v1" })).toBe(true);
    expect(isOllamaDeployment({ provider: "openai-compatible", base_url: "http://gpu-box:11434/v1" })).toBe(true);
    expect(isOllamaDeployment({ provider: "openai-compatible", base_url: "http://127.0.0.1:8080/v1" })).toBe(false);
    expect(isOllamaDeployment({ provider: "openai-compatible", base_url: "https://api.openai.com/v1" })).toBe(false);
    expect(isOllamaDeployment({ provider: "echo" })).toBe(false);
  });

  it("fills in only what the caller left out", () => {
    const ollama = { provider: "openai-compatible" as const, base_url: "http://127.0.0.1:11434/v1" };
    expect(withProviderDefaults(body, ollama)).toMatchObject({ top_p: 0.9, repeat_penalty: 1.1 });
    expect(withProviderDefaults({ ...body, top_p: 0.5 }, ollama)).toMatchObject({ top_p: 0.5, repeat_penalty: 1.1 });
    expect(withProviderDefaults({ ...body, repeat_penalty: 1.3 }, ollama)).toMatchObject({
      top_p: 0.9,
      repeat_penalty: 1.3,
    });
    expect(withProviderDefaults(body, { provider: "openai-compatible", base_url: "http://127.0.0.1:8080/v1" })).toEqual(
      body,
    );
  });
});

describe("through a client, with the fake upstream behind port 11434", () => {
  let upstream: FakeUpstream;
  let forwarder: net.Server;
  const db = tempDb();

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    const target = Number(new URL(upstream.baseUrl).port);
    // 127.0.0.2 is loopback too, and its port 11434 is free even where a real Ollama listens on 127.0.0.1.
    const server = net.createServer((socket) =>
      socket
        .pipe(net.connect(target, "127.0.0.1"))
        .pipe(socket)
        .on("error", () => socket.destroy()),
    );
    // A port that cannot be bound fails the test (it is never skipped).
    forwarder = await new Promise<net.Server>((resolve, reject) => {
      server.once("error", (error) =>
        reject(new Error(`cannot listen on 127.0.0.2:11434 for the Ollama-port test: ${error.message}`)),
      );
      server.listen(11434, "127.0.0.2", () => resolve(server));
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => (forwarder ? forwarder.close(resolve) : resolve(undefined)));
    await upstream.close();
    db.remove();
  });

  it("sends the defaults unless the caller set them", async () => {
    const client = createClient({
      config: libraryConfig(db.dbPath, { "ollama/*": fakeDeployment("http://127.0.0.2:11434/v1") }),
    });
    expect(await settled(client.generateCompletion("hi", { model: "ollama/qwen2.5:7b" }))).toMatchObject({
      success: true,
    });
    expect(upstream.requests.at(-1)?.body).toMatchObject({ model: "qwen2.5:7b", top_p: 0.9, repeat_penalty: 1.1 });
    await settled(
      client.generateCompletion("hi", { model: "ollama/qwen2.5:7b", topP: 0.4, extra: { repeat_penalty: 1.0 } }),
    );
    expect(upstream.requests.at(-1)?.body).toMatchObject({ top_p: 0.4, repeat_penalty: 1.0 });
    await client.close();
  });
});
