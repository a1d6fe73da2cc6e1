/**
 * Every provider's non-streaming answer is checked before it is passed on
 * (issue 16, failure 8): a 2xx body that is not what the backend's protocol
 * allows (HTML, `[]`, `null`, an object without the answer's fields) is a
 * 502 `upstream_invalid_response` in OpenAI's error shape — never a 200 with
 * empty text, never a 500 from a crash — and the record is an error that
 * keeps the body. One proxy, one deployment per HTTP provider, each behind
 * its fake on loopback.
 */
import fs from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { startRelayServer, type RelayServer } from "../../src/server/relay-server.js";
import { rows } from "../helpers/db.js";
import { chatBody, openAIError, send, type ExchangeRow } from "../helpers/exchanges.js";
import { FAKE_ANTHROPIC_KEY } from "../helpers/fake-anthropic-upstream.js";
import { startFakeKoboldCpp, type FakeKoboldCpp } from "../helpers/fake-koboldcpp.js";
import { startFakeLlamaCpp, type FakeLlamaCpp } from "../helpers/fake-llamacpp.js";
import { startFakeLocalServer, type FakeLocalServer } from "../helpers/fake-openai-local.js";
import { startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { startFakeWebui, type FakeWebui } from "../helpers/fake-webui.js";
import { tempDir } from "../helpers/proxy.js";

let dir: string;
let server: RelayServer;
let ollama: FakeOllama;
let llama: FakeLlamaCpp;
let kobold: FakeKoboldCpp;
let webui: FakeWebui;
let lmstudio: FakeLocalServer;
let vllm: FakeLocalServer;
let anthropic: FakeUpstream;

beforeAll(async () => {
  [ollama, llama, kobold, webui, lmstudio, vllm, anthropic] = await Promise.all([
    startFakeOllama(),
    startFakeLlamaCpp(),
    startFakeKoboldCpp(),
    startFakeWebui(),
    startFakeLocalServer("lmstudio", "qwen2.5-7b-instruct", 32_768),
    startFakeLocalServer("vllm", "Qwen/Qwen2.5-7B-Instruct", 32_768),
    // Any path, any body: stands in for an Anthropic server that answers garbage.
    startFakeUpstream(),
  ]);
  dir = tempDir("llm-relay-garbage-providers-");
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
  claude: { provider: anthropic, base_url: "${anthropic.baseUrl}", api_key_env: ANTHROPIC_API_KEY, model: claude-sonnet-4-20250514 }
`,
  );
  const env = { ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY };
  const config = loadConfig({ configPath, cwd: dir, env, db: path.join(dir, "logs.db"), port: 0 });
  server = await startRelayServer(config, { logger: pino({ level: "silent" }), env });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([ollama, llama, kobold, webui, lmstudio, vllm, anthropic].map((fake) => fake?.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Makes the model's backend answer its generation request with 200 and `body`. */
function answerWith(model: string, body: string): void {
  const status = { status: 200, body };
  if (model.startsWith("ollama")) ollama.behave({ kind: "status", ...status });
  else if (model === "llamacpp") llama.set({ completionError: status });
  else if (model === "koboldcpp") kobold.set({ generateError: status });
  else if (model === "webui") webui.set({ error: status });
  else if (model.startsWith("lmstudio")) lmstudio.behave({ kind: "status", ...status });
  else if (model === "vllm") vllm.behave({ kind: "status", ...status });
  else anthropic.behave({ kind: "status", ...status });
}

const MODELS = [
  "ollama-chat",
  "ollama-raw",
  "llamacpp",
  "koboldcpp",
  "webui",
  "lmstudio-chat",
  "lmstudio-legacy",
  "vllm",
  "claude",
];
/** Bodies no backend may pass on as an answer: HTML, an empty array, JSON null, and an object of the wrong shape for every backend. */
const BODIES = [
  "<html><body>Bad gateway</body></html>",
  "[]",
  "null",
  '{"choices":[null],"results":[null],"done":true}',
];

describe.each(MODELS)("a non-streaming 200 with garbage from the %s backend", (model) => {
  for (const body of BODIES) {
    it(`(${body.slice(0, 20)}) is a 502 upstream_invalid_response, recorded as an error keeping the body`, async () => {
      answerWith(model, body);
      const id = `garbage-${model}-${BODIES.indexOf(body)}`;
      const answer = await send(`${server.url}/v1/chat/completions`, {
        body: chatBody(model, { max_tokens: 16 }),
        headers: { "x-request-id": id },
      });

      expect(answer.status, answer.text).toBe(502);
      expect(openAIError(answer)).toMatchObject({ type: "server_error", code: "upstream_invalid_response" });
      await server.ctx.recorder.flush();
      const [row] = rows<ExchangeRow>(
        path.join(dir, "logs.db"),
        `SELECT r.response_json, e.status, e.http_status, e.error FROM llm_relay_exchanges e JOIN responses r ON r.id = e.response_id WHERE e.request_id = ?`,
        id,
      );
      expect(row).toMatchObject({ status: "error", http_status: 502 });
      expect((JSON.parse(row!.response_json!) as { upstream_body: string }).upstream_body).toContain(body.slice(0, 10));
    });
  }
});
