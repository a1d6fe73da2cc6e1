/**
 * Validates a chat-completion request body and turns zod's findings into
 * one OpenAI-style 400 that names the field.
 */
import { chatCompletionRequestSchema, type ChatCompletionRequest } from "../protocol/chat-request.js";
import { openAIFieldError, parseRequestBody } from "../protocol/zod-issue.js";

/**
 * The validated body.
 * @throws RelayError 400 `invalid_request_error` with `param` set to the field path (e.g. `messages.2.role`)
 */
export function validateChatRequest(body: unknown): ChatCompletionRequest {
  return parseRequestBody(
    chatCompletionRequestSchema,
    body,
    "The request body must be a JSON object with 'model' and 'messages'.",
    (issue) => openAIFieldError(issue),
  );
}
