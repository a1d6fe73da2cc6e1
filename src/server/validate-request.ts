/**
 * Validates a chat-completion request body and turns zod's findings into
 * one OpenAI-style 400 that names the field.
 */
import type { ZodError } from "zod";
import { chatCompletionRequestSchema, type ChatCompletionRequest } from "../protocol/chat-request.js";
import { invalidRequest } from "../protocol/errors.js";

/**
 * The validated body.
 * @throws RelayError 400 `invalid_request_error` with `param` set to the field path (e.g. `messages.2.role`)
 */
export function validateChatRequest(body: unknown): ChatCompletionRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw invalidRequest("The request body must be a JSON object with 'model' and 'messages'.");
  }
  const result = chatCompletionRequestSchema.safeParse(body);
  if (result.success) return result.data;
  throw describe(result.error);
}

function describe(error: ZodError) {
  const issue = error.issues[0];
  if (!issue) return invalidRequest("Invalid request body.");
  const param = issue.path.map(String).join(".");
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
    return invalidRequest(`Missing required parameter: '${param}'.`, param, "missing_required_parameter");
  }
  return invalidRequest(`Invalid value for '${param}': ${issue.message}`, param, "invalid_value");
}
