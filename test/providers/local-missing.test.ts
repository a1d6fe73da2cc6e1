/**
 * The `local` provider when the optional package node-llama-cpp is not
 * installed: the server starts and serves other models; every request to a
 * `local` deployment gets a 501 `provider_unavailable` naming
 * `npm install node-llama-cpp`, recorded; the failure is logged once.
 *
 * Through the real proxy, the provider's `import("node-llama-cpp")` is
 * replaced by the real import of a package that is not installed (Node's
 * own ERR_MODULE_NOT_FOUND); the log-once check injects a failing import
 * into the provider directly.
 */
import { Writable } from "node:stream";
import OpenAI from "openai";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { deploymentDefaults } from "../../src/config/schema.js";
import { RelayError } from "../../src/protocol/errors.js";
import { createLocalProvider } from "../../src/providers/local/local-provider.js";
import { chat, chatBody, openAIError, recordedExchange, send } from "../helpers/exchanges.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

function moduleNotFound(): Error {
  return Object.assign(
    new Error("Cannot find package 'node-llama-cpp' imported from /app/dist/providers/local/node-llama.js"),
    { code: "ERR_MODULE_NOT_FOUND" },
  );
}

// The real `import()` of a package that is not installed, in place of `import("node-llama-cpp")`.
vi.mock("../../src/providers/local/node-llama.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../src/providers/local/node-llama.js")>();
  const missing = "node-llama-cpp-not-installed";
  return { ...actual, importNodeLlamaCpp: () => import(missing) };
});

// Any other import of the package (a static one in the server's module graph) fails: the server must start without it.
vi.mock("node-llama-cpp", () => {
  throw new Error("node-llama-cpp must not be imported in this test");
});

const INSTALL = "npm install node-llama-cpp";

let proxy: TestProxy;

beforeAll(async () => {
  proxy = await startTestProxy({
    models: { tiny: { ...deploymentDefaults("local"), model_path: "stories260K.gguf", threads: 1 } },
  });
});
afterAll(async () => {
  await proxy.close();
});

describe("local provider without node-llama-cpp", () => {
  it("the server starts and serves the other models", async () => {
    expect((await send(`${proxy.url}/health`)).status).toBe(200);
    const echo = await chat(proxy, chatBody("echo"));
    expect(echo.status).toBe(200);
  });

  it("answers a local request with 501 provider_unavailable naming the package to install, and records it", async () => {
    const answer = await chat(proxy, chatBody("tiny", { max_tokens: 8 }), { "x-request-id": "local-missing-1" });
    expect(answer.status).toBe(501);
    const error = openAIError(answer);
    expect(error.code).toBe("provider_unavailable");
    expect(error.type).toBe("server_error");
    expect(error.message).toContain(INSTALL);
    expect(error.message).toMatch(/Cannot find (package|module) 'node-llama-cpp-not-installed'/);
    const row = await recordedExchange(proxy, "local-missing-1");
    expect(row).toMatchObject({ model: "tiny", provider: "local", http_status: 501, status: "error" });
    expect(row.error).toContain(INSTALL);
  });

  it("gives the same error to a streaming request through the openai SDK, before any chunk", async () => {
    const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
    const failure = await client.chat.completions
      .create({ model: "tiny", stream: true, max_tokens: 8, messages: [{ role: "user", content: "Once upon a time" }] })
      .then(async (stream) => {
        for await (const chunk of stream) throw new Error(`a chunk arrived: ${JSON.stringify(chunk)}`);
        return null;
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(501);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe("provider_unavailable");
    expect((failure as Error).message).toContain(INSTALL);
  });

  it("logs the missing package once, however many requests fail", async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: "info" },
      new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }),
    );
    const importModule = () => Promise.reject(moduleNotFound());
    const provider = createLocalProvider(
      { ...deploymentDefaults("local"), model_path: "stories260K.gguf", prompt_format: "chatml" },
      { env: {}, logger, debug: false, baseDir: process.cwd() },
      { importModule },
    );
    const call = () =>
      provider.complete({
        body: { model: "tiny", messages: [{ role: "user", content: "Hi" }] },
        signal: new AbortController().signal,
        requestId: "r",
      });
    for (let i = 0; i < 3; i++) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RelayError);
      expect((error as RelayError).status).toBe(501);
      expect((error as RelayError).message).toContain(INSTALL);
    }
    const logged = lines
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((entry) => entry.msg.includes(INSTALL));
    expect(logged).toHaveLength(1);
    expect(logged[0]!.level).toBe(50);
  });
});
