/**
 * The Ollama sampling defaults of the original design: `top_p` 0.9 and
 * `repeat_penalty` 1.1, added when a call routes to Ollama and the caller
 * gave neither. A deployment is Ollama when its provider kind is `ollama`,
 * or when it is `openai-compatible` with a `base_url` on port 11434
 * (Ollama's own port, serving its OpenAI-compatible `/v1`).
 */
import type { Deployment } from "../config/schema.js";
import type { ChatCompletionRequest } from "../protocol/chat-request.js";

/** Ollama's default port. */
export const OLLAMA_PORT = 11434;

/** What is added to a body that routes to Ollama, unless the caller set it. */
export const OLLAMA_DEFAULTS: Readonly<Record<string, number>> = { top_p: 0.9, repeat_penalty: 1.1 };

/** Whether `deployment` is an Ollama server (see the module comment for the rule). */
export function isOllamaDeployment(deployment: Pick<Deployment, "provider" | "base_url">): boolean {
  if (deployment.provider === "ollama") return true;
  if (deployment.provider !== "openai-compatible" || !deployment.base_url) return false;
  try {
    return Number(new URL(deployment.base_url).port) === OLLAMA_PORT;
  } catch {
    return false;
  }
}

/** `body` with the Ollama defaults filled in when `deployment` is Ollama; otherwise `body` itself. Fields the caller set are never replaced. */
export function withProviderDefaults(
  body: ChatCompletionRequest,
  deployment: Pick<Deployment, "provider" | "base_url">,
): ChatCompletionRequest {
  if (!isOllamaDeployment(deployment)) return body;
  const out: ChatCompletionRequest = { ...body };
  for (const [key, value] of Object.entries(OLLAMA_DEFAULTS)) {
    if (out[key] === undefined || out[key] === null) out[key] = value;
  }
  return out;
}
