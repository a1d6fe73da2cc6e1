/**
 * The Gemini API's other way to pass the API key, the `key` query parameter
 * (https://ai.google.dev/gemini-api/docs/api-key): admission reads it
 * (`server/admission.ts` `requestApiKey`), and a URL that is logged must not
 * carry it.
 */

/** `url` with the value of every `key` query parameter replaced by `[redacted]` (the rest unchanged). */
export function withoutKeyParam(url: string): string {
  const query = url.indexOf("?");
  if (query === -1) return url;
  return url.slice(0, query) + url.slice(query).replace(/([?&]key=)[^&#]*/g, "$1[redacted]");
}
