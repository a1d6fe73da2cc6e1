/**
 * The request body of `POST /v1/chat/completions`, validated with zod.
 *
 * Follows OpenAI's Chat Completions API reference
 * (https://platform.openai.com/docs/api-reference/chat/create). Only the
 * fields the proxy reads are typed; every other field is kept untouched
 * (`looseObject`) so that it reaches the upstream as the client sent it.
 */
import { z } from "zod";
import { llmChatOptions, type LlmChatOptions } from "../recording/llm-options.js";

/** A content part of a user/system message (`{type:"text",text}` or any other part, kept as sent). */
export const contentPartSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
});

/** `content` may be a string, an array of parts, or null (assistant messages with tool calls). */
export const messageContentSchema = z.union([z.string(), z.array(contentPartSchema), z.null()]);

/** One tool call inside an assistant message. */
export const toolCallSchema = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({
    name: z.string(),
    arguments: z.string().optional(),
  }),
});

/** The roles accepted in `messages[].role`. `developer` is OpenAI's newer name for `system`. */
export const MESSAGE_ROLES = ["system", "developer", "user", "assistant", "tool", "function"] as const;

/** One chat message. */
export const chatMessageSchema = z.looseObject({
  role: z.enum(MESSAGE_ROLES),
  content: messageContentSchema.optional(),
  name: z.string().optional(),
  tool_calls: z.array(toolCallSchema).optional(),
  tool_call_id: z.string().optional(),
});

/** The request body. Unknown fields pass through to the upstream. */
export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(chatMessageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: z.number().int().nonnegative().nullish(),
  max_completion_tokens: z.number().int().nonnegative().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
});

/** A validated chat message. */
export type ChatMessage = z.infer<typeof chatMessageSchema>;
/** A validated chat-completion request body (unknown keys preserved). */
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/**
 * The sampling options of a request as llm's OpenAI chat model takes them
 * (see {@link llmChatOptions}): recorded as `options_json`.
 */
export function samplingOptions(body: ChatCompletionRequest): LlmChatOptions {
  return llmChatOptions(body);
}

/** The plain text of a message's content: a string, or its text parts joined. */
export function contentText(content: ChatMessage["content"]): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content
    .filter((part) => part.type === "text" && typeof part.text === "string")
    .map((part) => part.text as string)
    .join("");
}
