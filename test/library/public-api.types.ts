/**
 * Type test of the public API (checked by `tsc --noEmit`, as `npm test`
 * runs it; nothing here executes). It pins the shapes the package root
 * exports, and what the compiler must refuse.
 */
import { expectTypeOf } from "vitest";
import {
  createClient,
  generateCompletion,
  generateCompletionSync,
  generateCompletionWithMessages,
  generateCompletionWithMessagesSync,
  streamCompletion,
  type ChatMessage,
  type CompletionOptions,
  type CompletionStream,
  type LLMClient,
  type LLMResponse,
} from "../../src/index.js";

expectTypeOf(generateCompletion).parameters.toEqualTypeOf<[prompt: string, options?: CompletionOptions]>();
expectTypeOf(generateCompletion).returns.toEqualTypeOf<Promise<LLMResponse>>();
expectTypeOf(generateCompletionWithMessages).returns.toEqualTypeOf<Promise<LLMResponse>>();
expectTypeOf(generateCompletionSync).returns.toEqualTypeOf<LLMResponse>();
expectTypeOf(generateCompletionWithMessagesSync).returns.toEqualTypeOf<LLMResponse>();
expectTypeOf(streamCompletion).returns.toEqualTypeOf<CompletionStream>();
expectTypeOf<CompletionStream>().toMatchTypeOf<AsyncIterable<string>>();
expectTypeOf<CompletionStream["response"]>().toEqualTypeOf<Promise<LLMResponse>>();

expectTypeOf<LLMResponse>().toEqualTypeOf<{
  content: string;
  tokensUsed: number;
  inputTokens: number;
  outputTokens: number;
  usageEstimated: boolean;
  responseTime: number;
  modelUsed: string;
  success: boolean;
  error?: string;
  finishReason: string | null;
  id: string;
}>();
expectTypeOf<CompletionOptions>().toEqualTypeOf<{
  model?: string;
  temperature?: number | null;
  maxTokens?: number | null;
  topP?: number;
  stop?: string | string[];
  signal?: AbortSignal;
  timeoutMs?: number;
  tenant?: string;
  extra?: Record<string, unknown>;
}>();
expectTypeOf<ChatMessage["role"]>().toEqualTypeOf<"system" | "user" | "assistant" | "tool">();

expectTypeOf(createClient).returns.toEqualTypeOf<LLMClient>();
expectTypeOf(createClient({ config: "./llm-relay.yaml" }))
  .toHaveProperty("generateCompletion")
  .toEqualTypeOf(generateCompletion);
expectTypeOf(createClient({ baseURL: "http://127.0.0.1:11435/v1", apiKey: "unused" }))
  .toHaveProperty("streamCompletion")
  .toEqualTypeOf(streamCompletion);
expectTypeOf(createClient({ config: { defaultModel: null, dbPath: "/tmp/logs.db" } }))
  .toHaveProperty("close")
  .returns.toEqualTypeOf<Promise<void>>();
expectTypeOf(createClient()).toHaveProperty("ready").toEqualTypeOf<() => Promise<void>>();

// What the compiler refuses:
// @ts-expect-error the blocking forms take no AbortSignal
generateCompletionSync("hi", { signal: new AbortController().signal });
// @ts-expect-error `developer` is not a library role
void generateCompletionWithMessages([{ role: "developer", content: "hi" }]);
// @ts-expect-error a client talks either in-process or over HTTP
createClient({ config: "./llm-relay.yaml", baseURL: "http://127.0.0.1:11435/v1" });
// @ts-expect-error temperature is a number
void generateCompletion("hi", { temperature: "0.7" });
