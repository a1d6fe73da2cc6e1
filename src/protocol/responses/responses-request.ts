/**
 * The request body of `POST /v1/responses`, validated with zod, following
 * OpenAI's Responses API reference
 * (https://platform.openai.com/docs/api-reference/responses/create).
 * Only the fields the proxy reads are typed; every other field is kept
 * (`looseObject`), so a deployment that speaks Responses natively gets the
 * body as the client sent it. Input items are checked one by one
 * ({@link parseInputItem}) so that a 400 names the item and its field.
 */
import { z } from "zod";
import { invalidRequest } from "../errors.js";
import { isJsonObject } from "../json-object.js";
import { openAIFieldError, parseOrReject, parseRequestBody } from "../zod-issue.js";

/** One tool of `tools`: `function`, `namespace` (a group of functions), or a hosted tool (`web_search`, `file_search`, …). */
export const responsesToolSchema = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).optional(),
});

/** The request body. Unknown fields are kept. */
export const responsesRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.unknown())]).nullish(),
  instructions: z.string().nullish(),
  tools: z.array(responsesToolSchema).nullish(),
  tool_choice: z.union([z.string(), z.looseObject({ type: z.string(), name: z.string().optional() })]).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int().nonnegative().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  reasoning: z.looseObject({ effort: z.string().nullish(), summary: z.string().nullish() }).nullish(),
  include: z.array(z.string()).nullish(),
  text: z
    .looseObject({
      format: z
        .looseObject({
          type: z.string(),
          name: z.string().optional(),
          schema: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullish(),
          description: z.string().optional(),
        })
        .nullish(),
    })
    .nullish(),
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  previous_response_id: z.string().nullish(),
  stream: z.boolean().nullish(),
  user: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
});

/** A validated `POST /v1/responses` body (unknown keys preserved). */
export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
/** One validated tool of `tools`. */
export type ResponsesTool = z.infer<typeof responsesToolSchema>;

/** A content part of a message item: `input_text`, `output_text`, `input_image`, `refusal`, … (other types are refused where translated). */
const contentPartSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  refusal: z.string().optional(),
  image_url: z.string().nullish(),
  file_id: z.string().nullish(),
  detail: z.string().nullish(),
});

/** A content part of a message item. */
export type ResponsesContentPart = z.infer<typeof contentPartSchema>;

/** The roles of a `message` input item. */
export const INPUT_ROLES = ["system", "developer", "user", "assistant"] as const;

const messageItemSchema = z.looseObject({
  type: z.literal("message").optional(),
  role: z.enum(INPUT_ROLES),
  content: z.union([z.string(), z.array(contentPartSchema)]),
});

const functionCallItemSchema = z.looseObject({
  type: z.literal("function_call"),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  namespace: z.string().nullish(),
});

const functionCallOutputItemSchema = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: z.string(),
  output: z.union([z.string(), z.array(contentPartSchema)]),
});

const reasoningItemSchema = z.looseObject({
  type: z.literal("reasoning"),
  summary: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })).optional(),
  content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })).nullish(),
  encrypted_content: z.string().nullish(),
});

/** A `message` item (also the short form `{role, content}` without `type`). */
export type MessageItem = z.infer<typeof messageItemSchema>;
/** A `function_call` item: a call the model made earlier. */
export type FunctionCallItem = z.infer<typeof functionCallItemSchema>;
/** A `function_call_output` item: the client's result of a call. */
export type FunctionCallOutputItem = z.infer<typeof functionCallOutputItemSchema>;
/** A `reasoning` item: the model's earlier reasoning (summary, maybe encrypted content). */
export type ReasoningItem = z.infer<typeof reasoningItemSchema>;

/** One input item the adapter understands. */
export type InputItem =
  | ({ kind: "message" } & MessageItem)
  | ({ kind: "function_call" } & FunctionCallItem)
  | ({ kind: "function_call_output" } & FunctionCallOutputItem)
  | ({ kind: "reasoning" } & ReasoningItem);

/**
 * Validates the body's top-level fields.
 * @throws RelayError 400 naming the field (`param` e.g. `tools.2.type`)
 */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  return parseRequestBody(
    responsesRequestSchema,
    body,
    "The request body must be a JSON object with 'model' and 'input'.",
    (issue) => openAIFieldError(issue),
  );
}

/**
 * Validates one input item (`input[index]`).
 * @throws RelayError 400 naming the item and field; an item type the proxy does not translate (`item_reference`, `file_search_call`, …) is named in the message
 */
export function parseInputItem(item: unknown, index: number): InputItem {
  const at = `input[${index}]`;
  if (!isJsonObject(item)) {
    throw invalidRequest(`Invalid value for '${at}': an input item must be an object.`, at, "invalid_value");
  }
  const type = (item as { type?: unknown }).type;
  switch (type) {
    case undefined:
    case "message":
      return { kind: "message", ...check(messageItemSchema, item, at) };
    case "function_call":
      return { kind: "function_call", ...check(functionCallItemSchema, item, at) };
    case "function_call_output":
      return { kind: "function_call_output", ...check(functionCallOutputItemSchema, item, at) };
    case "reasoning":
      return { kind: "reasoning", ...check(reasoningItemSchema, item, at) };
    default:
      throw invalidRequest(
        `Input item type ${JSON.stringify(type)} (${at}) cannot be translated to Chat Completions: llm-relay translates 'message', 'function_call', 'function_call_output' and 'reasoning' items.`,
        `${at}.type`,
        "invalid_value",
      );
  }
}

/** An input item as `schema` reads it; a bad field is named under the item (`input[2].call_id`). */
function check<T>(schema: z.ZodType<T>, value: unknown, at: string): T {
  return parseOrReject(schema, value, (issue) => openAIFieldError(issue, [at, ...issue.path.map(String)].join(".")));
}
