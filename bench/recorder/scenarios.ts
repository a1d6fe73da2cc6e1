/**
 * Exchanges in the canonical aider shape, as the server hands them to the
 * recorder: pending, with the streamed answer still raw (SSE payloads),
 * usage reported so the recorder estimates nothing.
 *
 * - `continuing`: K aider sessions that each grow by one turn per exchange
 *   (previous messages + previous answer + a new user message), restarted
 *   after `maxTurns` turns — the steady state of a busy proxy.
 * - `fresh`: every exchange is the aider request with a unique last user
 *   message — a new conversation each time (5 history rows + 1 live row).
 * - `proxy`: what one request of `bench:proxy` hands the recorder: the small
 *   two-message request (the same each time, so a new conversation each
 *   time), the mock's non-streaming 20-word answer, one attempt, and a
 *   usage-ledger row for the `default` tenant (no API keys), as the
 *   server's admission bills it; a random request id, as the server makes.
 */
import { readFileSync } from "node:fs";
import { chatCompletionRequestSchema, type ChatMessage } from "../../src/protocol/chat-request.js";
import type { PendingExchange } from "../../src/recording/types.js";
import { newUlid } from "../../src/recording/ulid.js";
import { newRequestId } from "../../src/server/request-id.js";
import { requestLedgerKey } from "../../src/tenancy/ledger-keys.js";

/** The scenarios the bench knows. */
export type ScenarioName = "continuing" | "fresh" | "proxy";

/** Shape of the generated load. */
export interface ScenarioOptions {
  /** Concurrent conversations of `continuing` (round-robin). */
  conversations: number;
  /** Turns after which a `continuing` conversation starts over. */
  maxTurns: number;
}

const fixtureUrl = new URL("../../../shared/fixtures/aider-chat-request.json", import.meta.url);

/** The aider request of the shared fixture, validated as the server validates it. */
export function loadAiderRequest(): { body: Record<string, unknown>; messages: ChatMessage[] } {
  const body = JSON.parse(readFileSync(fixtureUrl, "utf8")) as Record<string, unknown>;
  const parsed = chatCompletionRequestSchema.parse(body);
  return { body, messages: parsed.messages };
}

/** An answer in aider's whole-file format: a file listing of a few hundred characters. */
function answerText(session: number, turn: number): string {
  return [
    `src/fib_${session}_${turn}.py`,
    "```python",
    "def fibonacci(n):",
    '    """Yield the first n Fibonacci numbers."""',
    "    a, b = 0, 1",
    "    for _ in range(n):",
    "        yield a",
    "        a, b = b, a + b",
    "",
    "",
    'if __name__ == "__main__":',
    `    print(list(fibonacci(${10 + (turn % 20)})))`,
    "```",
  ].join("\n");
}

/** A new user request of about 150 characters. */
function userText(session: number, turn: number): string {
  return `Now change src/fib_${session}_${turn - 1}.py so that it also prints the sum of the sequence and handles n <= 0 by printing nothing (request ${session}.${turn}).`;
}

let clock = Date.now();

/** Characters of answer text per streamed chunk (about one token). */
const CHARS_PER_CHUNK = 4;

/**
 * The SSE `data:` payloads of a streamed answer as an OpenAI-compatible
 * upstream sends them: a role chunk, one content chunk per token, a
 * finish chunk, and the usage-only chunk (`stream_options.include_usage`).
 */
function streamEvents(id: string, created: number, answer: string, usage: Record<string, number>): string[] {
  const head = `{"id":"chatcmpl-${id}","object":"chat.completion.chunk","created":${created},"model":"upstream-model-2026-01-01","system_fingerprint":"fp_bench"`;
  const choice = (delta: string, finish: string | null): string =>
    `${head},"choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? "null" : `"${finish}"`}}]}`;
  const events = [choice(`{"role":"assistant","content":""}`, null)];
  for (let i = 0; i < answer.length; i += CHARS_PER_CHUNK) {
    events.push(choice(`{"content":${JSON.stringify(answer.slice(i, i + CHARS_PER_CHUNK))}}`, null));
  }
  events.push(choice("{}", "stop"));
  events.push(`${head},"choices":[],"usage":${JSON.stringify(usage)}}`);
  return events;
}

/** A pending exchange as `Exchange.toPending` builds it for a successful streamed answer. */
function pending(body: Record<string, unknown>, messages: ChatMessage[], answer: string): PendingExchange {
  const startedAt = (clock = Math.max(clock, Date.now()));
  const id = newUlid(startedAt);
  const requestBody = { ...body, messages };
  const usage = {
    prompt_tokens: 1200 + messages.length * 60,
    completion_tokens: 90,
    total_tokens: 1290 + messages.length * 60,
  };
  return {
    id,
    requestId: `req_${id}`,
    startedAt,
    durationMs: 850,
    ttftMs: 120,
    overheadMs: 0.4,
    requestedModel: String(body.model),
    provider: "openai-compatible",
    deployment: "bench",
    upstreamModel: "upstream-model",
    requestBody,
    messages,
    stream: true,
    httpStatus: 200,
    status: "ok",
    error: null,
    output: { kind: "stream", events: streamEvents(id, Math.floor(startedAt / 1000), answer, usage) },
    errorJson: null,
    errorClass: null,
  };
}

/** The request `bench:proxy` sends by default (`--body small`; bench/proxy/loadgen.ts). */
const PROXY_REQUEST = JSON.stringify({
  model: "mock",
  stream: false,
  messages: [
    { role: "system", content: "You are a helpful assistant. Answer briefly." },
    { role: "user", content: "Say something about foxes and dogs in twenty words." },
  ],
});

/** The mock upstream's non-streaming answer (bench/proxy/mock-upstream.ts, 20 words). */
const PROXY_ANSWER = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "mock-model",
  system_fingerprint: "fp_bench",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content:
          "The quick brown fox jumps over the lazy dog while the relay records every single word it forwards The quick",
      },
      logprobs: null,
      finish_reason: "stop",
    },
  ],
  usage: { prompt_tokens: 31, completion_tokens: 20, total_tokens: 51 },
});

/** One `bench:proxy` exchange as `Exchange.toPending` builds it (its own parsed request), billed to the `default` tenant. */
function proxyPending(): PendingExchange {
  const startedAt = (clock = Math.max(clock, Date.now()));
  const id = newUlid(startedAt);
  const requestId = newRequestId();
  const requestBody = chatCompletionRequestSchema.parse(JSON.parse(PROXY_REQUEST));
  return {
    id,
    requestId,
    startedAt,
    durationMs: 3,
    ttftMs: null,
    overheadMs: 0.2,
    requestedModel: "mock",
    provider: "openai-compatible",
    deployment: "mock",
    upstreamModel: "mock-model",
    requestBody,
    messages: requestBody.messages,
    stream: false,
    httpStatus: 200,
    status: "ok",
    error: null,
    output: { kind: "completion", body: PROXY_ANSWER },
    errorJson: null,
    errorClass: null,
    attempts: [
      {
        model: "mock",
        deployment: "mock",
        provider: "openai-compatible",
        upstreamModel: "mock-model",
        status: "ok",
        httpStatus: 200,
        startedMs: 0.1,
        durationMs: 2,
        error: null,
      },
    ],
    tenantId: "default",
    keyId: null,
    billing: {
      ledgerKey: requestLedgerKey("default", requestId),
      fromIdempotencyKey: false,
      operation: "query",
      reservationId: null,
    },
  };
}

interface Session {
  id: number;
  serial: number;
  turn: number;
  messages: ChatMessage[];
  lastAnswer: string;
}

/**
 * An endless generator of records for `scenario`. Message objects are
 * shared between records (as a server would parse fresh ones, this only
 * saves the bench's memory; the store never mutates them).
 */
export function* exchanges(scenario: ScenarioName, options: ScenarioOptions): Generator<PendingExchange> {
  const { body, messages: aider } = loadAiderRequest();
  const head = aider.slice(0, -1);
  const firstUser = aider[aider.length - 1]!;
  const firstText = typeof firstUser.content === "string" ? firstUser.content : "";
  let serial = 0;
  const startSession = (id: number): Session => {
    serial += 1;
    const unique: ChatMessage = { role: "user", content: `${firstText}\n\n(session ${id}/${serial})` };
    return { id, serial, turn: 1, messages: [...head, unique], lastAnswer: "" };
  };

  if (scenario === "proxy") {
    for (;;) yield proxyPending();
  }
  if (scenario === "fresh") {
    for (;;) {
      const s = startSession(0);
      yield pending(body, s.messages, answerText(s.serial, 1));
    }
  }

  const sessions = Array.from({ length: options.conversations }, (_, i) => startSession(i));
  for (let n = 0; ; n++) {
    const index = n % sessions.length;
    let s = sessions[index]!;
    if (s.turn > 1) {
      s.messages = [
        ...s.messages,
        { role: "assistant", content: s.lastAnswer },
        { role: "user", content: userText(s.serial, s.turn) },
      ];
    }
    s.lastAnswer = answerText(s.serial, s.turn);
    yield pending(body, s.messages, s.lastAnswer);
    s.turn += 1;
    if (s.turn > options.maxTurns) {
      s = startSession(s.id);
      sessions[index] = s;
    }
  }
}
