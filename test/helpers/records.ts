/**
 * ExchangeRecords as the server builds them, for store tests: the aider
 * request (test/helpers/fixtures.ts) and conversations continuing it.
 */
import { chatCompletionRequestSchema, samplingOptions, type ChatMessage } from "../../src/protocol/chat-request.js";
import type { ExchangeRecord } from "../../src/recording/types.js";
import { newUlid } from "../../src/recording/ulid.js";
import { aiderRequest } from "./fixtures.js";

/** The answer the records get unless told otherwise. */
export const FIB_ANSWER =
  "src/main.py\n```python\ndef fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        yield a\n        a, b = b, a + b\n```";

let clock = Date.parse("2026-11-21T09:00:00.100Z");

/**
 * An ExchangeRecord for `body` answered with `over.responseText` (default
 * {@link FIB_ANSWER}); each call starts one minute after the previous one.
 */
export function recordFor(body: Record<string, unknown>, over: Partial<ExchangeRecord> = {}): ExchangeRecord {
  const parsed = chatCompletionRequestSchema.parse(body);
  const startedAt = (clock += 60_000);
  const responseText = over.responseText ?? FIB_ANSWER;
  return {
    id: newUlid(startedAt),
    requestId: `req-${startedAt}`,
    startedAt,
    durationMs: 1234,
    ttftMs: 120,
    requestedModel: parsed.model,
    resolvedModel: "upstream-model-2026",
    provider: "echo",
    deployment: "local",
    upstreamModel: "upstream-model",
    requestBody: body,
    messages: parsed.messages,
    options: samplingOptions(parsed),
    stream: parsed.stream === true,
    responseText,
    toolCalls: [],
    finishReason: "stop",
    usage: { input: 900, output: 40, estimated: false },
    responseJson: {
      id: "chatcmpl-1",
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: responseText } }],
    },
    httpStatus: 200,
    status: "ok",
    error: null,
    costUsd: null,
    attempts: [],
    ...over,
  };
}

/** The aider request as a plain body. */
export function aiderBody(): Record<string, unknown> {
  return aiderRequest();
}

/**
 * `count` records of one conversation: the aider request, then each next
 * request re-sending the history plus the previous answer and a new
 * question (as aider does). Answers are `answer <i>` except the first.
 */
export function conversationRecords(count: number): ExchangeRecord[] {
  const out: ExchangeRecord[] = [];
  const messages: ChatMessage[] = [...(aiderBody().messages as ChatMessage[])];
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      messages.push({ role: "assistant", content: out[i - 1]!.responseText });
      messages.push({ role: "user", content: `question ${i}` });
    }
    out.push(
      recordFor({ ...aiderBody(), messages: [...messages] }, { responseText: i === 0 ? FIB_ANSWER : `answer ${i}` }),
    );
  }
  return out;
}
