/**
 * The exchanges of a {@link Plan} as the server would record them
 * (`ExchangeRecord`s, assembled): each turn's request carries the whole
 * history so far (so the stores thread it into its conversation), about 3 %
 * fail before any output (the client then retries the same message), about
 * 1 % are cancelled and 0.3 % truncated with a partial answer (which the
 * next request re-sends), with tokens, costs, attempts, tenants, keys and the
 * usage-ledger billing of a proxy with API keys.
 */
import type { ChatMessage } from "../../src/protocol/chat-request.js";
import type { AttemptRecord, ExchangeRecord, ExchangeStatus } from "../../src/recording/types.js";
import { ulidAt } from "../../src/recording/ulid.js";
import { paragraph, RARE_EVERY, RARE_WORD, systemPrompt } from "./corpus.js";
import { LONGEST_INDEX, LONGEST_MARKER, TEN_TURN_INDEX, TEN_TURN_MARKER, type Plan } from "./plan.js";
import { drawProfile, type ConversationProfile } from "./profiles.js";
import { receivedBody } from "./protocol-bodies.js";
import { intIn, mix, pick, seeded, type Random } from "./random.js";

/** API key ids per tenant id (`key_<ulid>`, as the tenancy store created them). */
export type KeyIds = Readonly<Record<string, readonly string[]>>;

/** An exchange as recorded. */
export type BenchRecord = ExchangeRecord;

/** A record with the index of its conversation in the plan. */
export interface PlannedRecord {
  record: BenchRecord;
  conversation: number;
}

/** What a conversation carries from one turn to the next. */
interface ConversationState {
  profile: ConversationProfile;
  /** The messages the next request starts with (system prompt, then the answered turns). */
  history: ChatMessage[];
  /** The user message of a failed exchange, which the next request sends again. */
  retry: string | null;
}

type Kind = ExchangeStatus;

/** How the upstream failed, for a failed exchange. */
const FAILURES = [
  { http: 429, code: "rate_limit_exceeded", type: "rate_limit_error", message: "Rate limit reached for requests" },
  {
    http: 500,
    code: "upstream_error",
    type: "server_error",
    message: "The upstream answered 500 Internal Server Error",
  },
  {
    http: 502,
    code: "upstream_invalid_response",
    type: "server_error",
    message: "The upstream sent a body that is not a chat completion",
  },
  {
    http: 504,
    code: "upstream_timeout",
    type: "server_error",
    message: "The upstream did not answer within 120000 ms",
  },
  {
    http: 400,
    code: "context_length_exceeded",
    type: "invalid_request_error",
    message: "This model's maximum context length is 8192 tokens",
  },
] as const;

const tokens = (chars: number): number => Math.max(1, Math.ceil(chars / 4));

/**
 * Yields the plan's exchanges in time order (from event `from` on), as `ExchangeRecord`s.
 * Deterministic for a seed, except the ids' random bits.
 */
export function* planRecords(plan: Plan, seed: number, keys: KeyIds, from = 0): Generator<PlannedRecord> {
  const states = new Map<number, ConversationState>();
  for (let i = from; i < plan.order.length; i++) {
    const event = plan.order[i]!;
    const c = plan.conversation[event]!;
    const t = plan.turn[event]!;
    let state = states.get(c);
    if (!state) {
      const random = seeded(mix(seed, 2, c));
      state = {
        profile: drawProfile(random),
        history: [{ role: "system", content: systemPrompt(random) }],
        retry: null,
      };
      states.set(c, state);
    }
    const record = exchangeRecord(state, c, t, Math.floor(plan.times[event]!), seeded(mix(seed, 3, c, t)), keys);
    if (t === plan.lengths[c]! - 1) states.delete(c);
    yield { record, conversation: c };
  }
}

function kindOf(c: number, random: Random): Kind {
  if (c === TEN_TURN_INDEX) return "ok";
  const x = random();
  return x < 0.03 ? "error" : x < 0.04 ? "cancelled" : x < 0.043 ? "truncated" : "ok";
}

function userText(c: number, t: number, random: Random): string {
  let text = paragraph(random, intIn(random, 6, 25));
  if (random() < 1 / RARE_EVERY) text += ` Is that ${RARE_WORD}?`;
  if (t === 0 && c === TEN_TURN_INDEX) text += ` ${TEN_TURN_MARKER}`;
  if (t === 0 && c === LONGEST_INDEX) text += ` ${LONGEST_MARKER}`;
  return text;
}

/** One exchange of conversation `c` at position `t`, starting at `startedAt`; updates the conversation's state. */
function exchangeRecord(
  state: ConversationState,
  c: number,
  t: number,
  startedAt: number,
  random: Random,
  keys: KeyIds,
): BenchRecord {
  const { profile } = state;
  const { model } = profile;
  const kind = kindOf(c, random);
  const user = state.retry ?? userText(c, t, random);
  const messages: ChatMessage[] = [...state.history, { role: "user", content: user }];
  const fullAnswer = paragraph(random, intIn(random, 15, 70));
  const partial = kind === "cancelled" || kind === "truncated";
  const responseText =
    kind === "error"
      ? ""
      : partial
        ? fullAnswer.slice(0, Math.max(8, Math.floor(fullAnswer.length * 0.4)))
        : fullAnswer;
  const reasoning = model.reasons && kind !== "error" ? paragraph(random, intIn(random, 10, 40)) : null;
  const failure = kind === "error" ? pick(random, FAILURES) : null;

  if (kind === "error") state.retry = user;
  else {
    state.history = [...messages, { role: "assistant", content: responseText }];
    state.retry = null;
  }

  // Not the monotonic `newUlid`: the store makes its thread ids with it, in write order.
  const id = ulidAt(startedAt);
  const requestId = `req_${id}`;
  const promptChars = messages.reduce((n, m) => n + (typeof m.content === "string" ? m.content.length : 0), 0);
  const input = tokens(promptChars);
  const output = kind === "error" ? 0 : tokens(responseText.length + (reasoning?.length ?? 0));
  const details: Record<string, unknown> = {};
  if (t > 0 && kind !== "error" && random() < 0.5) {
    const cached = Math.floor((input * 0.8) / 64) * 64;
    if (cached > 0) {
      if (model.provider === "anthropic") details.cache_read_input_tokens = cached;
      else details.prompt_tokens_details = { cached_tokens: cached };
    }
  }
  if (reasoning !== null) details.completion_tokens_details = { reasoning_tokens: tokens(reasoning.length) };
  const priced = model.inputPerMtok > 0 || model.outputPerMtok > 0;
  const costUsd =
    kind === "error" ? null : priced ? (input * model.inputPerMtok + output * model.outputPerMtok) / 1e6 : 0;

  const ttftMs = profile.stream && kind !== "error" ? intIn(random, 150, 1500) : null;
  const durationMs =
    kind === "error"
      ? intIn(random, 40, 30_000)
      : (ttftMs ?? intIn(random, 150, 1500)) + output * intIn(random, 12, 40);
  const deployment = `${model.provider}/${model.name}${random() < 0.2 ? "#2" : ""}`;
  const attempts = attemptsOf(kind, failure, model.name, deployment, model.provider, durationMs, random);
  const finishReason = kind === "ok" ? (random() < 0.02 ? "length" : "stop") : null;
  const httpStatus = failure?.http ?? (kind === "cancelled" ? 499 : 200);
  const error =
    failure?.message ??
    (kind === "cancelled"
      ? "the client closed the connection"
      : kind === "truncated"
        ? "the upstream closed the stream early"
        : null);

  const chatBody: Record<string, unknown> = { model: model.name, messages, stream: profile.stream };
  const temperature = c % 3 === 0 ? 0.2 : undefined;
  if (temperature !== undefined) chatBody.temperature = temperature;
  const received = receivedBody(profile.protocol.name, model.name, messages, profile.stream);
  const tenantKeys = keys[profile.tenant.id] ?? [];
  return {
    id,
    requestId,
    startedAt,
    startedAtUs: startedAt * 1000 + Math.floor(random() * 1000),
    durationMs,
    ttftMs,
    requestedModel: model.name,
    resolvedModel: kind === "error" ? null : model.resolved,
    provider: model.provider,
    deployment,
    upstreamModel: model.resolved,
    requestBody: chatBody,
    protocol: profile.protocol.name,
    ...(received !== null ? { receivedBody: received } : {}),
    messages,
    options: temperature !== undefined ? { temperature } : {},
    stream: profile.stream,
    responseText,
    toolCalls: [],
    reasoning,
    finishReason,
    usage: { input, output, estimated: kind === "error", details: Object.keys(details).length > 0 ? details : null },
    responseJson: failure
      ? { error: { message: failure.message, type: failure.type, param: null, code: failure.code } }
      : {
          id: `chatcmpl-${id}`,
          object: "chat.completion",
          created: Math.floor(startedAt / 1000),
          model: model.resolved,
          choices: [
            {
              index: 0,
              message: {
                role: "assistant",
                content: responseText,
                ...(reasoning !== null ? { reasoning_content: reasoning } : {}),
              },
              finish_reason: finishReason,
            },
          ],
          usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
        },
    httpStatus,
    status: kind,
    error,
    overheadMs: 0.2 + random() * 1.5,
    costUsd,
    attempts,
    tenantId: profile.tenant.id,
    keyId: tenantKeys.length > 0 ? tenantKeys[profile.keyIndex % tenantKeys.length]! : null,
    billing: {
      ledgerKey: `request:${profile.tenant.id}:${requestId}`,
      fromIdempotencyKey: false,
      operation: "query",
      reservationId: null,
    },
    billable: kind !== "error",
    client: profile.client,
  };
}

/** The upstream attempts: one, or a failed one before the answer (5 %), or two failed ones for an error. */
function attemptsOf(
  kind: Kind,
  failure: (typeof FAILURES)[number] | null,
  model: string,
  deployment: string,
  provider: string,
  durationMs: number,
  random: Random,
): AttemptRecord[] {
  const base = { model, deployment, provider, upstreamModel: model };
  if (failure) {
    const first = Math.floor(durationMs / 3);
    return [
      { ...base, status: "error", httpStatus: failure.http, startedMs: 0.4, durationMs: first, error: failure.message },
      {
        ...base,
        status: "error",
        httpStatus: failure.http,
        startedMs: first + 200,
        durationMs: durationMs - first - 200,
        error: failure.message,
      },
    ];
  }
  const last = { ...base, status: kind === "cancelled" ? "cancelled" : "ok", httpStatus: 200, error: null };
  if (random() < 0.05) {
    return [
      {
        ...base,
        status: "error",
        httpStatus: 429,
        startedMs: 0.4,
        durationMs: 30,
        error: "Rate limit reached for requests",
      },
      { ...last, startedMs: 250, durationMs: Math.max(1, durationMs - 250) },
    ];
  }
  return [{ ...last, startedMs: 0.4, durationMs }];
}
