/**
 * KoboldCpp behind an OpenAI-compatible deployment (`/v1/chat/completions`,
 * whatever provider kind is configured): its answers carry a fixed, fake
 * `usage` of 100/100/200 tokens and always `finish_reason: "length"`
 * (koboldcpp.py 1.76; ../shared/fixtures/protocols/koboldcpp.txt). Such an
 * answer is recounted with the server's own tokenizer
 * (`POST /api/extra/tokencount`), and its finish reason read from `GET
 * /api/extra/perf` (`stop_reason` 1 EOS or 2 stop sequence → `stop`), so the
 * client and the record get real counts; when the server cannot count, the
 * proxy's estimate replaces them, flagged as estimated. Its `/v1` streams
 * carry no usage at all: one counted the same way is added after the last
 * chunk (the client sees it when it asked for `include_usage`).
 *
 * Cheap on the hot path: only an answer whose usage is exactly 100/100/200
 * makes the proxy ask whether the server is KoboldCpp (`GET
 * /api/extra/version` → `{"result": "KoboldCpp", …}`), once per server
 * origin for the life of the process (an origin that could not be asked is
 * asked again next time).
 */
import type { Deployment } from "../../config/schema.js";
import type { ChatCompletion, Usage } from "../../protocol/chat-completion.js";
import { contentText, type ChatCompletionRequest, type ChatMessage } from "../../protocol/chat-request.js";
import { RelayError } from "../../protocol/errors.js";
import { sseDataOf } from "../../protocol/sse-text.js";
import { countTextTokens, EVENT_LOOP_COUNT_LIMIT_CHARS } from "../../tokens/count.js";
import { backendClient, splitApiBase } from "../http/backend-client.js";
import type { UpstreamClient } from "../http/upstream-client.js";
import type { ProviderCompletion, ProviderContext } from "../types.js";
import { perfSchema, STOP_REASON_CUSTOM_STOPPER, STOP_REASON_EOS, tokenCountSchema } from "./koboldcpp-api.js";

/** KoboldCpp's fixed `/v1` usage, in tokens. */
const FAKE_USAGE = { prompt_tokens: 100, completion_tokens: 100, total_tokens: 200 } as const;

/** Whether `usage` is KoboldCpp's fixed `/v1` usage (100/100/200): the trait that makes the proxy look closer. */
export function isKoboldFakeUsage(usage: Usage | null | undefined): boolean {
  return (
    !!usage &&
    usage.prompt_tokens === FAKE_USAGE.prompt_tokens &&
    usage.completion_tokens === FAKE_USAGE.completion_tokens &&
    usage.total_tokens === FAKE_USAGE.total_tokens
  );
}

/** Whether each server origin is KoboldCpp, asked once per origin (process-wide). */
const detected = new Map<string, Promise<boolean>>();

/**
 * Whether the server at `client`'s origin is KoboldCpp (`GET /api/extra/version` names it), asked once per
 * origin. An answer that is not KoboldCpp's (404, another JSON) is kept as `false`; a server that could not
 * be reached or timed out is asked again on the next call.
 */
export function isKoboldCpp(client: UpstreamClient, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  let known = detected.get(client.origin);
  if (!known) {
    known = client
      .getJson<{ result?: unknown }>("/api/extra/version", { signal, timeoutMs })
      .then((answer) => answer?.result === "KoboldCpp")
      .catch((error: unknown) => {
        const answered = error instanceof RelayError && error.errorClass === "upstream_http";
        if (!answered) detected.delete(client.origin);
        return false;
      });
    detected.set(client.origin, known);
  }
  return known;
}

/** The role starts of KoboldCpp's chat adapter (`--chatcompletionsadapter`, or a request's `adapter`). */
interface KoboldAdapter {
  system_start: string;
  system_end: string;
  user_start: string;
  user_end: string;
  assistant_start: string;
  assistant_end: string;
}

/** koboldcpp.py's default adapter (Alpaca-like), used when neither the server nor the request sets one. */
const DEFAULT_ADAPTER: KoboldAdapter = {
  system_start: "\n### Instruction:\n",
  system_end: "",
  user_start: "\n### Instruction:\n",
  user_end: "",
  assistant_start: "\n### Response:\n",
  assistant_end: "",
};

/**
 * The prompt koboldcpp.py renders from chat messages (its `/v1/chat/completions` handler): each message
 * between its role's start and end, then the assistant's start. Uses the request's `adapter` fields where it
 * sends them, else the default adapter (a server started with another `--chatcompletionsadapter` renders
 * differently; its count is then near, not exact).
 */
export function koboldChatPrompt(body: ChatCompletionRequest): string {
  const sent = (body as Record<string, unknown>).adapter;
  const adapter: KoboldAdapter = { ...DEFAULT_ADAPTER };
  if (sent && typeof sent === "object") {
    for (const key of Object.keys(DEFAULT_ADAPTER) as (keyof KoboldAdapter)[]) {
      const value = (sent as Record<string, unknown>)[key];
      if (typeof value === "string") adapter[key] = value;
    }
  }
  const role = (message: ChatMessage): "system" | "user" | "assistant" | null =>
    message.role === "system" || message.role === "user" || message.role === "assistant" ? message.role : null;
  let prompt = "";
  for (const message of body.messages) {
    const r = role(message);
    prompt += (r ? adapter[`${r}_start`] : "") + contentText(message.content) + (r ? adapter[`${r}_end`] : "");
  }
  return prompt + adapter.assistant_start;
}

/** The part of an `openai-compatible` provider that corrects KoboldCpp's `/v1` answers. */
export interface KoboldV1Usage {
  /**
   * The answer to give the client and record: `rawBody` unchanged unless its usage is KoboldCpp's fixed one
   * and the server is KoboldCpp; then the completion with real counts (and `finish_reason: "stop"` when
   * `/api/extra/perf` says the generation ended on EOS or a stop sequence), serialised again.
   * @param completion `rawBody` parsed
   * @throws only when `signal` is aborted
   */
  correct(
    body: ChatCompletionRequest,
    rawBody: string,
    completion: ChatCompletion,
    signal: AbortSignal,
  ): Promise<ProviderCompletion>;
  /**
   * A stream's SSE blocks, passed on unchanged. KoboldCpp's `/v1` streams send no usage chunk (even with
   * `stream_options.include_usage`); when the first block is KoboldCpp's (chunk id `koboldcpp`) and the server
   * is KoboldCpp, a usage-only chunk (`choices: []`) counted with `/api/extra/tokencount` follows the last
   * block. When it cannot count, none is added (the recorder then estimates, flagged). Any other stream is
   * only looked at in its first block.
   */
  stream(body: ChatCompletionRequest, blocks: AsyncIterable<string>, signal: AbortSignal): AsyncIterable<string>;
  /** Closes its connections (opened on first use). */
  close(): Promise<void>;
}

/** The id every chunk of a KoboldCpp `/v1` stream carries (koboldcpp.py), in any JSON spacing. */
const KOBOLD_CHUNK_ID = /"id"\s*:\s*"koboldcpp"/;

/** The `id`, `created` and `model` of a stream's chunks, and its answer text so far. */
interface StreamSoFar {
  head: { id: string; created: number; model: string } | null;
  text: string;
}

/** Adds the content deltas (and, from the first chunk, the head) of a block of KoboldCpp chunks to `so`. */
function readBlock(block: string, so: StreamSoFar): void {
  for (const data of sseDataOf([block])) {
    let chunk: { id?: unknown; created?: unknown; model?: unknown; choices?: { delta?: { content?: unknown } }[] };
    try {
      chunk = JSON.parse(data) as typeof chunk;
    } catch {
      continue;
    }
    if (!so.head && typeof chunk.id === "string")
      so.head = {
        id: chunk.id,
        created: typeof chunk.created === "number" ? chunk.created : 0,
        model: typeof chunk.model === "string" ? chunk.model : "",
      };
    for (const choice of chunk.choices ?? [])
      if (typeof choice.delta?.content === "string") so.text += choice.delta.content;
  }
}

/**
 * The KoboldCpp correction of one OpenAI-compatible deployment (no I/O until an answer has the fake usage).
 * @param deployment `base_url` up to `/v1`; its key (`api_key_env`) is sent to the side calls too
 */
export function koboldV1Usage(deployment: Deployment, context: ProviderContext): KoboldV1Usage {
  let side: { client: UpstreamClient; sideCallMs: number } | null = null;
  const open = () => {
    side ??= backendClient(deployment, context, splitApiBase(deployment.base_url!).root);
    return side;
  };

  async function count(
    client: UpstreamClient,
    text: string,
    special: boolean,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<number | null> {
    if (text === "" && !special) return 0;
    try {
      const parsed = tokenCountSchema.safeParse(
        await client.postForJson<unknown>("/api/extra/tokencount", { prompt: text, special }, { signal, timeoutMs }),
      );
      return parsed.success ? parsed.data.value : null;
    } catch (error) {
      if (signal.aborted) throw error;
      return null;
    }
  }

  async function stoppedEarly(client: UpstreamClient, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    try {
      const perf = perfSchema.safeParse(await client.getJson<unknown>("/api/extra/perf", { signal, timeoutMs }));
      return (
        perf.success &&
        (perf.data.stop_reason === STOP_REASON_CUSTOM_STOPPER || perf.data.stop_reason === STOP_REASON_EOS)
      );
    } catch (error) {
      if (signal.aborted) throw error;
      return false;
    }
  }

  return {
    async correct(body, rawBody, completion, signal) {
      if (!isKoboldFakeUsage(completion.usage)) return { rawBody };
      const { client, sideCallMs } = open();
      if (!(await isKoboldCpp(client, sideCallMs, signal))) return { rawBody };
      const prompt = koboldChatPrompt(body);
      const answer = completion.choices.map((choice) => contentText(choice.message?.content ?? null)).join("");
      const [promptTokens, completionTokens, stopped] = await Promise.all([
        count(client, prompt, true, sideCallMs, signal),
        count(client, answer, false, sideCallMs, signal),
        completion.choices.some((choice) => choice.finish_reason === "length")
          ? stoppedEarly(client, sideCallMs, signal)
          : Promise.resolve(false),
      ]);
      const estimated = promptTokens === null || completionTokens === null;
      const input = promptTokens ?? countTextTokens(prompt, EVENT_LOOP_COUNT_LIMIT_CHARS);
      const output = completionTokens ?? countTextTokens(answer, EVENT_LOOP_COUNT_LIMIT_CHARS);
      const corrected: ChatCompletion = {
        ...completion,
        choices: stopped
          ? completion.choices.map((choice) =>
              choice.finish_reason === "length" ? { ...choice, finish_reason: "stop" } : choice,
            )
          : completion.choices,
        usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
      };
      if (context.debug)
        context.logger.debug(
          { provider: "koboldcpp-v1", target: client.origin, input, output, estimated, stopped },
          "KoboldCpp /v1 usage recounted",
        );
      return { rawBody: JSON.stringify(corrected), completion: corrected, usageEstimated: estimated };
    },

    async *stream(body, blocks, signal) {
      const iterator = blocks[Symbol.asyncIterator]();
      const rest = { [Symbol.asyncIterator]: () => iterator };
      const so: StreamSoFar = { head: null, text: "" };
      try {
        const first = await iterator.next();
        if (first.done) return;
        yield first.value;
        if (!KOBOLD_CHUNK_ID.test(first.value)) {
          yield* rest;
          return;
        }
        readBlock(first.value, so);
        for await (const block of rest) {
          readBlock(block, so);
          yield block;
        }
      } finally {
        // A consumer that leaves early (client gone) ends the upstream stream too; a no-op once it has ended.
        await iterator.return?.();
      }
      const { client, sideCallMs } = open();
      if (!so.head || !(await isKoboldCpp(client, sideCallMs, signal))) return;
      const [promptTokens, completionTokens] = await Promise.all([
        count(client, koboldChatPrompt(body), true, sideCallMs, signal),
        count(client, so.text, false, sideCallMs, signal),
      ]);
      if (promptTokens === null || completionTokens === null) return;
      const usage = {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      };
      yield `data: ${JSON.stringify({ ...so.head, object: "chat.completion.chunk", choices: [], usage })}\n\n`;
    },

    async close() {
      await side?.client.close();
    },
  };
}
