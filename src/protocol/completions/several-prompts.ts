/**
 * Several prompts in one legacy completions request (`prompt: ["a", "b"]`,
 * https://platform.openai.com/docs/api-reference/completions/create): each prompt is its own exchange (its own
 * record, the prompt as the user text), and the answers are joined here into one `text_completion` whose
 * `choices[i]` (with `index: i`) answers `prompt[i]` (`server/routes/several-prompts.ts` runs them).
 */
import type { TextCompletion, TextCompletionUsage } from "./from-chat.js";

/**
 * One `text_completion` of the answers to each prompt, in order: the first answer's id, model and `created`, the
 * choices re-indexed by prompt, the usage added up.
 */
export function joinTextCompletions(answers: readonly TextCompletion[]): TextCompletion {
  const first = answers[0];
  if (!first) throw new Error("joinTextCompletions needs at least one answer");
  const usage: TextCompletionUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const answer of answers) {
    usage.prompt_tokens += answer.usage?.prompt_tokens ?? 0;
    usage.completion_tokens += answer.usage?.completion_tokens ?? 0;
    usage.total_tokens += answer.usage?.total_tokens ?? 0;
  }
  return {
    id: first.id,
    object: "text_completion",
    created: first.created,
    model: first.model,
    choices: answers.flatMap((answer, index) => answer.choices.map((choice) => ({ ...choice, index }))),
    usage,
  };
}
