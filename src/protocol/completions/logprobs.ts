/**
 * Chat Completions' token log probabilities (`choices[].logprobs.content`,
 * https://platform.openai.com/docs/api-reference/chat/object) in the legacy completions shape
 * (`choices[].logprobs` of https://platform.openai.com/docs/api-reference/completions/object): parallel arrays
 * `tokens`, `token_logprobs`, `top_logprobs` (one `{token: logprob}` map per position) and `text_offset` (each
 * token's character offset in the choice's `text`).
 */

/** A choice's `logprobs` in the legacy shape. */
export interface LegacyLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

/** One token of chat's `logprobs.content`, as read (other fields ignored). */
interface ChatTokenLogprob {
  token: string;
  logprob: number;
  top_logprobs: { token: string; logprob: number }[];
}

/**
 * The tokens of a chat choice's (or chunk choice's) `logprobs`, or null when it carries none (the upstream gives no
 * log probabilities: raw-completion backends, `echo`, or a chat upstream that ignored the request).
 */
export function chatTokenLogprobs(logprobs: unknown): ChatTokenLogprob[] | null {
  if (logprobs === null || typeof logprobs !== "object") return null;
  const content = (logprobs as { content?: unknown }).content;
  if (!Array.isArray(content)) return null;
  const tokens: ChatTokenLogprob[] = [];
  for (const item of content as unknown[]) {
    if (item === null || typeof item !== "object") continue;
    const { token, logprob, top_logprobs: top } = item as Record<string, unknown>;
    if (typeof token !== "string" || typeof logprob !== "number") continue;
    const alternatives = Array.isArray(top)
      ? (top as unknown[]).filter(
          (alt): alt is { token: string; logprob: number } =>
            alt !== null &&
            typeof alt === "object" &&
            typeof (alt as Record<string, unknown>).token === "string" &&
            typeof (alt as Record<string, unknown>).logprob === "number",
        )
      : [];
    tokens.push({ token, logprob, top_logprobs: alternatives });
  }
  return tokens;
}

/**
 * The legacy `logprobs` of `tokens`.
 * @param startOffset the character offset of the first token in the choice's `text` (the prompt's length when it is echoed)
 * @param top how many alternatives per position the client asked for (`logprobs: N`)
 */
export function legacyLogprobs(tokens: ChatTokenLogprob[], startOffset: number, top: number): LegacyLogprobs {
  const out: LegacyLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = startOffset;
  for (const token of tokens) {
    out.tokens.push(token.token);
    out.token_logprobs.push(token.logprob);
    out.top_logprobs.push(
      Object.fromEntries(token.top_logprobs.slice(0, top).map((alt) => [alt.token, alt.logprob] as const)),
    );
    out.text_offset.push(offset);
    offset += token.token.length;
  }
  return out;
}
