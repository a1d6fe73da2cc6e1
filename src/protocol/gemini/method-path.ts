/**
 * The Gemini API's method URLs, `/v1beta/models/{model}:{method}`
 * (https://ai.google.dev/api/generate-content#endpoint): the model is only
 * in the path, and may hold `/` (llm-relay's `groq/llama-3.1-8b-instant`,
 * which Google's SDKs send as `models/groq/llama-3.1-8b-instant`), so the
 * method is what follows the last `:` of the path's last segment.
 */

/** The prefix of every model URL. */
export const MODELS_PREFIX = "/v1beta/models/";

/** The methods llm-relay serves on a model. */
export const GEMINI_METHODS = ["generateContent", "streamGenerateContent", "countTokens"] as const;

/** One of {@link GEMINI_METHODS}. */
export type GeminiMethod = (typeof GEMINI_METHODS)[number];

/**
 * The method a request target names (`/v1beta/models/m:generateContent?alt=sse` → `generateContent`),
 * or undefined when it names none (not a model URL, or no `:` in its last segment).
 */
export function methodOfUrl(url: string): string | undefined {
  if (!url.startsWith(MODELS_PREFIX)) return undefined;
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  const colon = path.lastIndexOf(":");
  return colon > path.lastIndexOf("/") ? path.slice(colon + 1) : undefined;
}

/** The model of a model URL's rest after `/v1beta/models/` (decoded): `groq/x:generateContent` → `groq/x`. */
export function modelOfPath(rest: string): string {
  const colon = rest.lastIndexOf(":");
  return colon > rest.lastIndexOf("/") ? rest.slice(0, colon) : rest;
}
