/**
 * The one place a rendered prompt loses its BOS text for a backend that
 * adds BOS itself when tokenizing (`RenderOptions.bos === false`).
 *
 * The backend adds exactly one BOS token, at the very start of the token
 * sequence, so exactly one BOS text is left out: the leading one. Any
 * later BOS the template writes (Llama 2 opens every user turn with
 * `<s>`) is part of the prompt the model was trained on and stays.
 */

/**
 * `prompt` without its leading `bos` text, or `prompt` unchanged when it
 * does not start with it (or `bos` is empty / null).
 * @param prompt the prompt rendered with the BOS text (the reference template's output)
 * @param bos the format's BOS text (e.g. `<s>`), or null when it has none
 */
export function withoutLeadingBos(prompt: string, bos: string | null): string {
  return bos && prompt.startsWith(bos) ? prompt.slice(bos.length) : prompt;
}
