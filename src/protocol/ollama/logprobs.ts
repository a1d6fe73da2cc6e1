/**
 * A chat choice's `logprobs` (https://platform.openai.com/docs/api-reference/chat/object,
 * `choices[].logprobs.content[]`: `{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}`)
 * → Ollama's `logprobs` of an answer object (https://github.com/ollama/ollama/blob/main/docs/api.md,
 * requested with `logprobs`/`top_logprobs`: `[{token, logprob, top_logprobs?: [{token, logprob}]}]`).
 * Log probabilities are natural logs, as both APIs give them.
 */

/** One token's log probability as Ollama answers it. */
export interface OllamaTokenLogprob {
  token: string;
  logprob: number;
}

/** One output token with its log probability and, when asked for, the most likely alternatives. */
export interface OllamaLogprob extends OllamaTokenLogprob {
  top_logprobs?: OllamaTokenLogprob[];
}

/** The Ollama `logprobs` of a chat choice's (or chunk choice's) `logprobs`; [] when it has none or they are malformed. */
export function ollamaLogprobs(choiceLogprobs: unknown): OllamaLogprob[] {
  const content = (choiceLogprobs as { content?: unknown } | null | undefined)?.content;
  if (!Array.isArray(content)) return [];
  return content.flatMap((entry): OllamaLogprob[] => {
    const token = tokenLogprob(entry);
    if (!token) return [];
    const top = (entry as { top_logprobs?: unknown }).top_logprobs;
    if (!Array.isArray(top) || top.length === 0) return [token];
    return [{ ...token, top_logprobs: top.flatMap((alt) => tokenLogprob(alt) ?? []) }];
  });
}

function tokenLogprob(entry: unknown): OllamaTokenLogprob | null {
  const { token, logprob } = (entry ?? {}) as { token?: unknown; logprob?: unknown };
  return typeof token === "string" && typeof logprob === "number" ? { token, logprob } : null;
}
