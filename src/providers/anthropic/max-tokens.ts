/**
 * The `max_tokens` of an Anthropic request. The Messages API requires it
 * (https://docs.anthropic.com/en/api/messages); OpenAI clients usually
 * leave it out.
 */
import type { Deployment } from "../../config/schema.js";
import { lookupModel } from "../../catalog/index.js";
import type { ChatCompletionRequest } from "../../protocol/chat-request.js";

/** Used when neither the request, the deployment nor the catalog gives a limit, in tokens. */
export const FALLBACK_MAX_TOKENS = 4096;

/**
 * The largest completion to ask for, in tokens: the client's
 * `max_completion_tokens` or `max_tokens`, else the deployment's
 * `max_output_tokens` (the user's own setting), else the model's max output
 * in the `anthropic` catalog, else {@link FALLBACK_MAX_TOKENS}.
 * @param model the upstream model name
 * @throws CatalogError when the catalog's data files are invalid
 */
export function maxTokensFor(body: ChatCompletionRequest, deployment: Deployment, model: string): number {
  return (
    body.max_completion_tokens ??
    body.max_tokens ??
    deployment.max_output_tokens ??
    lookupModel("anthropic", model)?.maxOutputTokens ??
    FALLBACK_MAX_TOKENS
  );
}
