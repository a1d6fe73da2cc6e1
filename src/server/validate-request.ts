/**
 * Validates a chat-completion request body and turns zod's findings into
 * one OpenAI-style 400 that names the field.
 */
import type { ZodError } from "zod";
import { chatCompletionRequestSchema, type ChatCompletionRequest } from "../protocol/chat-request.js";
import { invalidRequest } from "../protocol/errors.js";
import { isJsonObject } from "../protocol/json-object.js";
import { readZodIssue } from "../protocol/zod-issue.js";

/**
 * The validated body.
 * @throws RelayError 400 `invalid_request_error` with `param` set to the field path (e.g. `messages.2.role`)
 */
export function validateChatRequest(body: unknown): ChatCompletionRequest {
  if (!isJsonObject(body)) {
    throw invalidRequest("The request body must be a JSON object with 'model' and 'messages'.");
  }
  const result = chatCompletionRequestSchema.safeParse(body);
  if (result.success) return result.data;
  throw describe(result.error, body);
}

function describe(error: ZodError, body: Record<string, unknown>) {
  const issue = readZodIssue(error, body);
  if (!issue) return invalidRequest("Invalid request body.");
  const { param } = issue;
  if (issue.missing) {
    return invalidRequest(`Missing required parameter: '${param}'.`, param, "missing_required_parameter");
  }
  return invalidRequest(`Invalid value for '${param}': ${issue.message}`, param, "invalid_value");
}
