/**
 * The request body of Anthropic's `POST /v1/messages` (and of
 * `POST /v1/messages/count_tokens`), validated with zod, as the Messages
 * API reference documents it (https://docs.anthropic.com/en/api/messages,
 * https://docs.anthropic.com/en/api/messages-count-tokens).
 *
 * Every object is loose: fields llm-relay does not read (`cache_control`
 * anywhere, `citations`, `context_management`, `output_config`, …) are kept
 * as the client sent them, for the record and for an upstream that speaks
 * Messages natively. Content blocks of a type the API adds later are kept
 * too (they are left out of the chat translation); the known ones are
 * checked field by field, so that a 400 names the field
 * (`messages.0.content.1.text`).
 */
import { z } from "zod";
import { invalidRequest, type RelayError } from "../errors.js";
import { parseRequestBody, type ZodIssueReading } from "../zod-issue.js";

/** `cache_control` as the API takes it (`{"type": "ephemeral", "ttl"?: …}`), on any block or tool. */
const cacheControl = z.looseObject({ type: z.string() }).nullish();

/** A text block (`{type: "text", text}`). */
const textBlock = z.looseObject({ type: z.literal("text"), text: z.string(), cache_control: cacheControl });

/** An image source: inline base64, a URL, or a Files API id. */
const imageSource = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("base64"), media_type: z.string().min(1), data: z.string() }),
  z.looseObject({ type: z.literal("url"), url: z.string().min(1) }),
  z.looseObject({ type: z.literal("file"), file_id: z.string().min(1) }),
]);

/** An image block. */
const imageBlock = z.looseObject({ type: z.literal("image"), source: imageSource, cache_control: cacheControl });

/**
 * A block with a `type`, checked against `known[type]` when there is one
 * (its findings reported at their own paths), kept as it is otherwise.
 */
function checkedBlock(known: Record<string, z.ZodType>) {
  return z.looseObject({ type: z.string().min(1) }).superRefine((block, ctx) => {
    const schema = known[block.type];
    if (!schema) return;
    const result = schema.safeParse(block);
    if (result.success) return;
    for (const issue of result.error.issues)
      ctx.addIssue({ code: "custom", message: issue.message, path: issue.path, input: block });
  });
}

/** A block inside a document's `content` source (text, image). */
const documentInnerBlock = checkedBlock({ text: textBlock, image: imageBlock });

/** A document source: base64 PDF, plain text, content blocks, a URL, or a Files API id. */
const documentSource = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("base64"), media_type: z.string().min(1), data: z.string() }),
  z.looseObject({ type: z.literal("text"), media_type: z.string().optional(), data: z.string() }),
  z.looseObject({
    type: z.literal("content"),
    content: z.union([z.string(), z.array(documentInnerBlock)]),
  }),
  z.looseObject({ type: z.literal("url"), url: z.string().min(1) }),
  z.looseObject({ type: z.literal("file"), file_id: z.string().min(1) }),
]);

/** A document block (PDF or text, https://docs.anthropic.com/en/docs/build-with-claude/pdf-support). */
const documentBlock = z.looseObject({
  type: z.literal("document"),
  source: documentSource,
  title: z.string().nullish(),
  context: z.string().nullish(),
  cache_control: cacheControl,
});

/** A tool call of an assistant turn. */
const toolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  cache_control: cacheControl,
});

/** A block of a tool result's content (text, image, document). */
const toolResultInnerBlock = checkedBlock({ text: textBlock, image: imageBlock, document: documentBlock });

/** A tool's answer, in a user turn: a string or blocks (text, image, document, …). */
const toolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(toolResultInnerBlock)]).optional(),
  is_error: z.boolean().nullish(),
  cache_control: cacheControl,
});

/** Extended thinking sent back in an assistant turn (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking). */
const thinkingBlock = z.looseObject({
  type: z.literal("thinking"),
  thinking: z.string(),
  signature: z.string().optional(),
});

/** Redacted (encrypted) thinking sent back in an assistant turn. */
const redactedThinkingBlock = z.looseObject({ type: z.literal("redacted_thinking"), data: z.string() });

/** The schema of each known block type; blocks of other types are only required to have a `type`. */
const KNOWN_BLOCKS: Record<string, z.ZodType> = {
  text: textBlock,
  image: imageBlock,
  document: documentBlock,
  tool_use: toolUseBlock,
  tool_result: toolResultBlock,
  thinking: thinkingBlock,
  redacted_thinking: redactedThinkingBlock,
};

/** A content block of a turn: checked against its type's schema when the type is known, kept as it is otherwise. */
const contentBlock = checkedBlock(KNOWN_BLOCKS);

/** One turn. `system` is a mid-conversation system message (Claude Code sends one). */
const messageParam = z.looseObject({
  role: z.enum(["user", "assistant", "system"]),
  content: z.union([z.string(), z.array(contentBlock)]),
});

/** A tool definition: a client tool (`input_schema`), or one of Anthropic's own (`type`: `bash_20250124`, `web_search_20250305`, …). */
const toolDefinition = z.looseObject({
  name: z.string().min(1),
  type: z.string().nullish(),
  description: z.string().nullish(),
  input_schema: z.looseObject({ type: z.string().optional() }).optional(),
  cache_control: cacheControl,
});

/** How the model may use tools. */
const toolChoice = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().nullish() }),
  z.looseObject({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().nullish() }),
  z.looseObject({ type: z.literal("tool"), name: z.string().min(1), disable_parallel_tool_use: z.boolean().nullish() }),
  z.looseObject({ type: z.literal("none") }),
]);

/** The fields `/v1/messages` and `/v1/messages/count_tokens` share. */
const commonFields = {
  model: z.string().min(1),
  messages: z.array(messageParam).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z.array(toolDefinition).optional(),
  tool_choice: toolChoice.optional(),
  thinking: z.looseObject({ type: z.string() }).optional(),
};

/** The body of `POST /v1/messages`. Unknown fields are kept. */
export const messagesRequestSchema = z.looseObject({
  ...commonFields,
  max_tokens: z.number().int().positive(),
  stream: z.boolean().optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: z.number().int().optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
});

/** The body of `POST /v1/messages/count_tokens` (no `max_tokens`; sampling fields are kept but unused). Unknown fields are kept. */
export const countTokensRequestSchema = z.looseObject(commonFields);

/** A validated text block. */
export type TextBlock = z.infer<typeof textBlock>;
/** A validated image block. */
export type ImageBlock = z.infer<typeof imageBlock>;
/** A validated document block. */
export type DocumentBlock = z.infer<typeof documentBlock>;
/** A validated tool_use block. */
export type ToolUseBlock = z.infer<typeof toolUseBlock>;
/** A validated tool_result block. */
export type ToolResultBlock = z.infer<typeof toolResultBlock>;
/** A validated thinking block. */
export type ThinkingBlock = z.infer<typeof thinkingBlock>;
/** Any content block as validated (its type-specific fields checked when the type is known). */
export type ContentBlock = z.infer<typeof contentBlock>;
/** One validated turn. */
export type MessageParam = z.infer<typeof messageParam>;
/** One validated tool definition. */
export type ToolDefinition = z.infer<typeof toolDefinition>;
/** A validated `tool_choice`. */
export type ToolChoice = z.infer<typeof toolChoice>;
/** A validated `/v1/messages` body (unknown fields kept). */
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
/** A validated `/v1/messages/count_tokens` body (unknown fields kept). */
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;

/**
 * Validates a `/v1/messages` body.
 * @throws RelayError 400 `invalid_request_error` naming the first offending field
 */
export function parseMessagesRequest(body: unknown): MessagesRequest {
  return validate(messagesRequestSchema, body);
}

/**
 * Validates a `/v1/messages/count_tokens` body.
 * @throws RelayError 400 `invalid_request_error` naming the first offending field
 */
export function parseCountTokensRequest(body: unknown): CountTokensRequest {
  return validate(countTokensRequestSchema, body);
}

function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  return parseRequestBody(
    schema,
    body,
    "The request body must be a JSON object with 'model', 'messages' and 'max_tokens'.",
    describe,
  );
}

/** One 400 naming the field of zod's first finding, worded like Anthropic's (`messages.0.content: Field required`). */
function describe(issue: ZodIssueReading): RelayError {
  const { param } = issue;
  const message = issue.missing ? "Field required" : issue.message;
  return invalidRequest(param ? `${param}: ${message}` : message, param || null);
}
