/**
 * The conversation browser's fixture set (issue 21), **recorded through the real proxy**: a scripted
 * OpenAI-compatible upstream on 127.0.0.1 behind a proxy with a master key and two tenants' API keys,
 * and the requests a user's clients would send. Nothing is written into the store by hand.
 *
 * The set: the aider conversation (/work/shared/fixtures/aider-chat-request.json through `echo`, then a
 * follow-up turn), a tool loop (`tool_calls`, then the client's tool result and the final answer), a
 * reasoning answer (`reasoning_content`), an upstream error (500, retried once: two attempts), a stream
 * the client aborts mid-way (cancelled), requests from two tenants (`acme`, `globex`), an answer holding
 * `<script>` and `<img onerror>` (XSS), and a request with a `data:` image (and a remote one). On SQLite, a
 * bench run (`llm-relay bench`'s steps in-process) replays the reasoning case against `echo`.
 */
import http from "node:http";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { loadConfig, type LibraryConfigInput } from "../../src/config/load.js";
import { DEFAULT_ROUTING, toModelGroup } from "../../src/config/schema.js";
import type { CreatedApiKey } from "../../src/tenancy/types.js";
import { createClient } from "../../src/index.js";
import { runBench } from "../../src/bench/runner.js";
import { createRun, planRun } from "../../src/bench/session.js";
import { BenchStore } from "../../src/bench/storage/bench-store.js";
import { handled } from "./async-handler.js";
import { send, type Answer } from "./exchanges.js";
import { listenOnLoopback } from "./loopback-server.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "./proxy.js";
import { until } from "./until.js";

/** The master key the UI logs in with. */
export const UI_MASTER_KEY = "ui-master-key-for-tests";

/** The text of the XSS answer. */
export const XSS_ANSWER = "Careful: <script>alert(1)</script> and <img src=x onerror=alert(1)> are only text here.";

/** A 4×4 red PNG, as a `data:` URL. */
export const DATA_IMAGE =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGO4o6YGRwzEcQDsoxKBT+rXhgAAAABJRU5ErkJggg==";

/** A remote image URL in the same request: shown as a link, never fetched. */
export const REMOTE_IMAGE = "https://images.example.com/cat.png";

/** The words the fixtures' answers and prompts hold, for the page tests. */
export const FIXTURE_TEXT = {
  /** A word of the aider conversation only (its captured request's last prompt: "…implement the fibonacci sequence"). */
  aiderWord: "fibonacci",
  aiderFollowUp: "Now add a unit test for the fibonacci function",
  toolQuestion: "What is the weather in Paris?",
  toolAnswer: "It is 12 °C and cloudy in Paris.",
  reasoning: "The boiling point of water depends on pressure; at sea level it is 100 °C.",
  reasoningAnswer: "Water boils at 100 °C at sea level.",
  errorPrompt: "This request meets a broken upstream",
  cancelledPrompt: "Tell me a very long story",
  globexPrompt: "Globex quarterly numbers please",
  imagePrompt: "What is in this picture?",
  xssPrompt: "Show me some HTML",
} as const;

/** The models the scripted upstream serves. */
export const FIXTURE_MODELS = {
  tool: "tool-model",
  think: "think-model",
  broken: "broken-model",
  slow: "slow-model",
  xss: "xss-model",
} as const;

/** The scripted upstream: answers by model; the `slow-model` stream holds until released. */
export interface ScriptedUpstream {
  /** `http://127.0.0.1:PORT/v1` */
  baseUrl: string;
  /** Ends every held `slow-model` stream (its last chunk, then `[DONE]`). */
  release(): void;
  /** How many `slow-model` streams are held open now. */
  held(): number;
  close(): Promise<void>;
}

const USAGE = { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 };

function completionBody(model: string, message: Record<string, unknown>, finish: string): string {
  return JSON.stringify({
    id: `chatcmpl-${model}`,
    object: "chat.completion",
    created: 1_795_257_782,
    model,
    choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: finish }],
    usage: USAGE,
  });
}

function chunkEvent(model: string, delta: Record<string, unknown>, finish: string | null): string {
  const payload = {
    id: `chatcmpl-${model}`,
    object: "chat.completion.chunk",
    created: 1_795_257_782,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** The usage-only chunk (`choices: []`) a stream ends with when the client asked for usage. */
function usageEvent(model: string): string {
  const payload = {
    id: `chatcmpl-${model}`,
    object: "chat.completion.chunk",
    created: 1_795_257_782,
    model,
    choices: [],
    usage: USAGE,
  };
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** Starts the scripted upstream on 127.0.0.1. */
export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const waiting = new Set<() => void>();
  const server = http.createServer(
    handled(async (req, res) => {
      let text = "";
      for await (const piece of req) text += String(piece);
      const body = JSON.parse(text) as { model: string; messages: { role: string }[]; stream?: boolean };
      const json = (status: number, payload: string): void => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(payload);
      };
      switch (body.model) {
        case FIXTURE_MODELS.tool: {
          const last = body.messages.at(-1);
          if (last?.role === "tool")
            return json(200, completionBody(body.model, { content: FIXTURE_TEXT.toolAnswer }, "stop"));
          return json(
            200,
            completionBody(
              body.model,
              {
                content: null,
                tool_calls: [
                  {
                    id: "call_weather_1",
                    type: "function",
                    function: { name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' },
                  },
                ],
              },
              "tool_calls",
            ),
          );
        }
        case FIXTURE_MODELS.think:
          return json(
            200,
            completionBody(
              body.model,
              { content: FIXTURE_TEXT.reasoningAnswer, reasoning_content: FIXTURE_TEXT.reasoning },
              "stop",
            ),
          );
        case FIXTURE_MODELS.xss:
          return json(200, completionBody(body.model, { content: XSS_ANSWER }, "stop"));
        case FIXTURE_MODELS.broken:
          return json(500, JSON.stringify({ error: { message: "the upstream broke", type: "server_error" } }));
        case FIXTURE_MODELS.slow: {
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write(chunkEvent(body.model, { role: "assistant", content: "Once upon a time" }, null));
          await new Promise<void>((resolve) => {
            const done = (): void => {
              waiting.delete(done);
              resolve();
            };
            waiting.add(done);
            res.on("close", done);
          });
          if (res.destroyed || res.writableEnded) return;
          res.write(chunkEvent(body.model, { content: ", the end." }, "stop"));
          res.write(usageEvent(body.model));
          res.end("data: [DONE]\n\n");
          return;
        }
        default:
          return json(
            404,
            JSON.stringify({ error: { message: `no model ${body.model}`, type: "invalid_request_error" } }),
          );
      }
    }),
  );
  const listening = await listenOnLoopback(server);
  return {
    baseUrl: `http://127.0.0.1:${listening.port}/v1`,
    release() {
      for (const done of [...waiting]) done();
    },
    held: () => waiting.size,
    close: () => listening.close(),
  };
}

/** A proxy recording into a fresh store, with the scripted upstream's models, two tenants' keys and a master key. */
export interface UiFixtureProxy {
  proxy: TestProxy;
  upstream: ScriptedUpstream;
  /** `acme`'s key (with a budget of $5 per 30 days). */
  acme: CreatedApiKey;
  /** `globex`'s key (no key budget; the tenant has $1 for all time in the config). */
  globex: CreatedApiKey;
  close(): Promise<void>;
}

/** Config fields that put the scripted upstream's models (priced, so budgets apply) behind the proxy. */
function fixtureConfig(baseUrl: string, databaseUrl: string | undefined): LibraryConfigInput {
  const priced = { input_cost_per_mtok: 2.5, output_cost_per_mtok: 10 };
  const deployment = (model: string) => fakeDeployment(baseUrl, { model, ...priced });
  return {
    ...(databaseUrl ? { databaseUrl } : {}),
    masterKey: UI_MASTER_KEY,
    tenantBudgets: { globex: { budgetUsd: 1, periodMs: null } },
    allowUnpriced: true,
    models: {
      [FIXTURE_MODELS.tool]: deployment(FIXTURE_MODELS.tool),
      [FIXTURE_MODELS.think]: deployment(FIXTURE_MODELS.think),
      [FIXTURE_MODELS.xss]: deployment(FIXTURE_MODELS.xss),
      [FIXTURE_MODELS.slow]: deployment(FIXTURE_MODELS.slow),
      [FIXTURE_MODELS.broken]: toModelGroup(FIXTURE_MODELS.broken, deployment(FIXTURE_MODELS.broken), {
        ...DEFAULT_ROUTING,
        num_retries: 1,
        retry_base_ms: 1,
        retry_max_ms: 5,
      }),
    },
  };
}

/**
 * Starts the scripted upstream and a proxy (SQLite in a temp dir, or PostgreSQL at `databaseUrl`) with a master
 * key and two keys (tenants `acme` and `globex`).
 */
export async function startUiFixtureProxy(databaseUrl?: string): Promise<UiFixtureProxy> {
  const upstream = await startScriptedUpstream();
  const proxy = await startTestProxy(fixtureConfig(upstream.baseUrl, databaseUrl));
  const acme = await proxy.server.ctx.tenancy.keys.create({
    tenant: "acme",
    budgetUsd: 5,
    budgetPeriodMs: 30 * 86_400_000,
  });
  const globex = await proxy.server.ctx.tenancy.keys.create({ tenant: "globex" });
  return {
    proxy,
    upstream,
    acme,
    globex,
    async close() {
      upstream.release();
      await proxy.close();
      await upstream.close();
    },
  };
}

type Message = Record<string, unknown>;

/** `POST /v1/chat/completions` as a client with `key`; `userAgent` names the client. @throws when the status is not `expect` */
async function ask(
  f: UiFixtureProxy,
  key: CreatedApiKey,
  body: Record<string, unknown>,
  expectStatus = 200,
  userAgent = "llm-relay-ui-tests/1.0",
): Promise<Answer> {
  const answer = await send(`${f.proxy.baseURL}/chat/completions`, {
    body,
    headers: { authorization: `Bearer ${key.plaintext}`, "user-agent": userAgent },
  });
  if (answer.status !== expectStatus)
    throw new Error(
      `${String(body.model)}: expected ${expectStatus}, got ${answer.status}: ${answer.text.slice(0, 300)}`,
    );
  return answer;
}

/** The assistant text of a streamed answer (concatenated `delta.content`). */
function streamedText(sse: string): string {
  let text = "";
  for (const line of sse.split("\n")) {
    if (!line.startsWith("data: {")) continue;
    const chunk = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string | null } }[] };
    text += chunk.choices?.[0]?.delta?.content ?? "";
  }
  return text;
}

/** The aider conversation: the captured request through `echo` (streamed), then a follow-up turn. */
export async function recordAiderConversation(f: UiFixtureProxy): Promise<void> {
  const path = fileURLToPath(new URL("../../../shared/fixtures/aider-chat-request.json", import.meta.url));
  const request = JSON.parse(fs.readFileSync(path, "utf8")) as { messages: Message[] } & Record<string, unknown>;
  const aider = "aider/0.86.1 litellm/1.74";
  const first = await ask(f, f.acme, request, 200, aider);
  const followUp = {
    ...request,
    messages: [
      ...request.messages,
      { role: "assistant", content: streamedText(first.text) },
      { role: "user", content: FIXTURE_TEXT.aiderFollowUp },
    ],
  };
  await ask(f, f.acme, followUp, 200, aider);
}

/** The tool loop: the model calls `get_weather`, the client sends the result, the model answers. */
export async function recordToolLoop(f: UiFixtureProxy): Promise<void> {
  const tools = [
    {
      type: "function",
      function: {
        name: "get_weather",
        description: "The weather in a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    },
  ];
  const question = { role: "user", content: FIXTURE_TEXT.toolQuestion };
  const first = await ask(f, f.acme, { model: FIXTURE_MODELS.tool, tools, messages: [question] });
  const call = (first.json as { choices: { message: Message }[] }).choices[0]!.message;
  await ask(f, f.acme, {
    model: FIXTURE_MODELS.tool,
    tools,
    messages: [
      question,
      call,
      { role: "tool", tool_call_id: "call_weather_1", content: '{"temperature_c":12,"sky":"cloudy"}' },
    ],
  });
}

/** One request per remaining fixture: reasoning, upstream error, globex's request, images, XSS. */
export async function recordSingles(f: UiFixtureProxy): Promise<void> {
  await ask(f, f.acme, {
    model: FIXTURE_MODELS.think,
    messages: [{ role: "user", content: "At what temperature does water boil?" }],
  });
  await ask(
    f,
    f.acme,
    { model: FIXTURE_MODELS.broken, messages: [{ role: "user", content: FIXTURE_TEXT.errorPrompt }] },
    500,
  );
  await ask(f, f.globex, { model: "echo", messages: [{ role: "user", content: FIXTURE_TEXT.globexPrompt }] });
  await ask(f, f.acme, {
    model: "echo",
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: FIXTURE_TEXT.imagePrompt },
          { type: "image_url", image_url: { url: DATA_IMAGE } },
          { type: "image_url", image_url: { url: REMOTE_IMAGE } },
        ],
      },
    ],
  });
  await recordXss(f);
}

/** The XSS answer: an upstream answering `<script>` and `<img onerror>` as text. */
export async function recordXss(f: UiFixtureProxy): Promise<void> {
  await ask(f, f.acme, { model: FIXTURE_MODELS.xss, messages: [{ role: "user", content: FIXTURE_TEXT.xssPrompt }] });
}

/** Starts a streamed request of `slow-model` as the `acme` key, with `prompt` as the user's message; resolves at its headers. */
function startSlowStream(f: UiFixtureProxy, prompt: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${f.proxy.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${f.acme.plaintext}` },
    body: JSON.stringify({ model: FIXTURE_MODELS.slow, stream: true, messages: [{ role: "user", content: prompt }] }),
    ...(signal ? { signal } : {}),
  });
}

/** A stream the client aborts after its first chunk (recorded as cancelled). */
export async function recordCancelledStream(f: UiFixtureProxy): Promise<void> {
  const controller = new AbortController();
  const response = await startSlowStream(f, FIXTURE_TEXT.cancelledPrompt, controller.signal);
  const reader = response.body!.getReader();
  await reader.read();
  controller.abort();
  await reader.cancel().catch(() => undefined);
  await until("the cancelled stream to leave the upstream", () => f.upstream.held() === 0);
}

/**
 * Starts a `slow-model` stream and keeps it open (for the Live page); `finish()` lets the upstream end it and reads
 * the answer to its end.
 */
export async function holdStream(f: UiFixtureProxy): Promise<{ finish(): Promise<string> }> {
  const response = await startSlowStream(f, "Hold on");
  await until("the held stream to reach the upstream", () => f.upstream.held() > 0);
  return {
    async finish() {
      f.upstream.release();
      return response.text();
    },
  };
}

/** Waits until the recorder has written everything and the usage is booked. */
export async function settle(f: UiFixtureProxy): Promise<void> {
  await f.proxy.server.ctx.recorder.flush();
  await f.proxy.server.ctx.booking.drain();
}

/** Records the whole fixture set, in order, and waits for the records. */
export async function recordUiFixtures(f: UiFixtureProxy): Promise<void> {
  await recordAiderConversation(f);
  await recordToolLoop(f);
  await recordSingles(f);
  await recordCancelledStream(f);
  await settle(f);
}

/**
 * A bench run on the SQLite store (bench runs live in logs.db): the reasoning exchange replayed against `echo`
 * with `llm-relay bench`'s steps (plan, store the run, run it through the library client).
 * @returns the run's id
 * @throws when the run does not finish
 */
export async function recordBenchRun(f: UiFixtureProxy): Promise<string> {
  const config = loadConfig({ cwd: f.proxy.dir, env: {}, db: f.proxy.dbPath });
  const store = BenchStore.open(f.proxy.dbPath);
  const client = createClient({ config });
  try {
    const filters = { model: FIXTURE_MODELS.think };
    const settings = { repeat: 1, concurrency: 1, maxTokens: null, temperature: null, judge: null, checks: [] };
    const plan = planRun(store, config, filters, ["echo"], settings);
    const run = createRun(store, plan, filters);
    const outcome = await runBench({ client, store, run, cases: plan.cases });
    if (outcome.interrupted) throw new Error("the bench run was interrupted");
    return run.id;
  } finally {
    await client.close();
    store.close();
  }
}
