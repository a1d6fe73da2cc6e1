/**
 * Issue 3's "done when", and issue 4's providers beside them: ONE config
 * file with one deployment per provider — ollama (chat and raw), llamacpp,
 * koboldcpp, webui, lmstudio (chat and legacy), vllm, local (the real tiny
 * GGUF), anthropic, an OpenAI-compatible API and echo — read by loadConfig,
 * served by one proxy; every model answers through the `openai` SDK,
 * streaming and not, and every exchange is recorded with its provider.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { ProviderKind } from "../../src/providers/kinds.js";
import { PROVIDER_MODULES } from "../../src/providers/modules.js";
import { startRelayServer, type RelayServer } from "../../src/server/relay-server.js";
import { rows } from "../helpers/db.js";
import {
  FAKE_ANTHROPIC_KEY,
  startFakeAnthropic,
  type FakeAnthropicUpstream,
} from "../helpers/fake-anthropic-upstream.js";
import { startFakeKoboldCpp, type FakeKoboldCpp } from "../helpers/fake-koboldcpp.js";
import { startFakeLlamaCpp, type FakeLlamaCpp } from "../helpers/fake-llamacpp.js";
import { startFakeLocalServer, type FakeLocalServer } from "../helpers/fake-openai-local.js";
import { startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { startFakeWebui, type FakeWebui } from "../helpers/fake-webui.js";
import { tempDir } from "../helpers/proxy.js";

const GGUF = fileURLToPath(new URL("../../../shared/models/stories260K.gguf", import.meta.url));

/** Model name → provider kind expected in the record; every provider module has at least one (checked below). */
const MODELS: Record<string, ProviderKind> = {
  "ollama-chat": "ollama",
  "ollama-raw": "ollama",
  llamacpp: "llamacpp",
  koboldcpp: "koboldcpp",
  webui: "webui",
  "lmstudio-chat": "lmstudio",
  "lmstudio-legacy": "lmstudio",
  vllm: "vllm",
  local: "local",
  claude: "anthropic",
  hosted: "openai-compatible",
  echo: "echo",
};

let dir: string;
let server: RelayServer;
let client: OpenAI;
let ollama: FakeOllama;
let llama: FakeLlamaCpp;
let kobold: FakeKoboldCpp;
let webui: FakeWebui;
let lmstudio: FakeLocalServer;
let vllm: FakeLocalServer;
let anthropic: FakeAnthropicUpstream;
let hosted: FakeUpstream;

beforeAll(async () => {
  [ollama, llama, kobold, webui, lmstudio, vllm, anthropic, hosted] = await Promise.all([
    startFakeOllama(),
    startFakeLlamaCpp(),
    startFakeKoboldCpp(),
    startFakeWebui(),
    startFakeLocalServer("lmstudio", "qwen2.5-7b-instruct", 32_768),
    startFakeLocalServer("vllm", "Qwen/Qwen2.5-7B-Instruct", 32_768),
    startFakeAnthropic(),
    startFakeUpstream(),
  ]);
  dir = tempDir("llm-relay-all-providers-");
  const configPath = path.join(dir, "llm-relay.yaml");
  fs.writeFileSync(
    configPath,
    `
default_model: null
models:
  ollama-chat: { provider: ollama, base_url: "${ollama.baseUrl}", model: llama3.2 }
  ollama-raw: { provider: ollama, base_url: "${ollama.baseUrl}", model: llama3.2, prompt_format: chatml }
  llamacpp: { provider: llamacpp, base_url: "${llama.url}", prompt_format: chatml }
  koboldcpp: { provider: koboldcpp, base_url: "${kobold.url}", prompt_format: chatml }
  webui: { provider: webui, base_url: "${webui.url}", prompt_format: chatml }
  lmstudio-chat: { provider: lmstudio, base_url: "${lmstudio.baseUrl}", model: qwen2.5-7b-instruct }
  lmstudio-legacy: { provider: lmstudio, base_url: "${lmstudio.baseUrl}", model: qwen2.5-7b-instruct, mode: legacy, prompt_format: chatml }
  vllm: { provider: vllm, base_url: "${vllm.baseUrl}", model: Qwen/Qwen2.5-7B-Instruct }
  local: { provider: local, model_path: "${GGUF}", threads: 1, context_window: 512 }
  claude: { provider: anthropic, base_url: "${anthropic.baseUrl}", api_key_env: ANTHROPIC_API_KEY, model: claude-sonnet-4-20250514 }
  hosted: { provider: openai-compatible, base_url: "${hosted.baseUrl}" }
  echo: { provider: echo }
`,
  );
  const env = { ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY };
  const config = loadConfig({ configPath, cwd: dir, env, db: path.join(dir, "logs.db"), port: 0 });
  server = await startRelayServer(config, { logger: pino({ level: "silent" }), env });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([ollama, llama, kobold, webui, lmstudio, vllm, anthropic, hosted].map((fake) => fake?.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const messages = [
  { role: "system" as const, content: "You tell short stories." },
  { role: "user" as const, content: "Once upon a time" },
];

describe("one config with one deployment per provider", () => {
  it("has a deployment of every provider module", () => {
    expect(new Set(Object.values(MODELS))).toEqual(new Set(PROVIDER_MODULES.map((module) => module.kind)));
  });

  it("answers every model without streaming", async () => {
    for (const model of Object.keys(MODELS)) {
      const completion = await client.chat.completions.create({ model, messages, max_tokens: 24 });
      expect(completion.object, model).toBe("chat.completion");
      expect(completion.choices[0]!.message.content, model).toBeTruthy();
      expect(["stop", "length"], model).toContain(completion.choices[0]!.finish_reason);
      expect(completion.usage?.prompt_tokens, model).toBeGreaterThan(0);
    }
  }, 60_000);

  it("streams every model, usage last", async () => {
    for (const model of Object.keys(MODELS)) {
      const stream = await client.chat.completions.create({
        model,
        messages,
        max_tokens: 24,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let finish: string | null = null;
      let promptTokens = 0;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) promptTokens = chunk.usage.prompt_tokens;
      }
      expect(text, model).not.toBe("");
      expect(["stop", "length"], model).toContain(finish);
      expect(promptTokens, model).toBeGreaterThan(0);
    }
  }, 60_000);

  it("records every exchange, ok, with its provider", async () => {
    await server.ctx.recorder.flush();
    const recorded = rows<{ model: string; provider: string; status: string; stream: number; response: string }>(
      path.join(dir, "logs.db"),
      "select r.model, x.provider, x.status, x.stream, r.response from responses r join llm_relay_exchanges x on x.response_id = r.id order by r.id",
    );
    expect(recorded).toHaveLength(2 * Object.keys(MODELS).length);
    for (const [model, provider] of Object.entries(MODELS)) {
      const mine = recorded.filter((row) => row.model === model);
      expect(
        mine.map((row) => [row.provider, row.status, row.stream]),
        model,
      ).toEqual([
        [provider, "ok", 0],
        [provider, "ok", 1],
      ]);
      expect(
        mine.every((row) => row.response.length > 0),
        model,
      ).toBe(true);
    }
  });
});
