/**
 * The reference chat templates of the named formats
 * (test/fixtures/chat-templates/<name>.jinja, sources in the README there)
 * rendered with @huggingface/jinja the way `transformers` renders them, as
 * the oracle the formats are checked against.
 */
import fs from "node:fs";
import { Template } from "@huggingface/jinja";

/** The special tokens of each reference model's tokenizer (`bos_token`, `eos_token` of its tokenizer_config.json). */
export const REFERENCE_TOKENS: Record<string, { bos: string; eos: string }> = {
  chatml: { bos: "<s>", eos: "<|im_end|>" }, // teknium/OpenHermes-2.5-Mistral-7B
  llama2: { bos: "<s>", eos: "</s>" }, // meta-llama/Llama-2-7b-chat-hf
  llama3: { bos: "<|begin_of_text|>", eos: "<|eot_id|>" }, // meta-llama/Meta-Llama-3-8B-Instruct
  "mistral-instruct": { bos: "<s>", eos: "</s>" }, // mistralai/Mistral-7B-Instruct-v0.2
  alpaca: { bos: "<s>", eos: "</s>" }, // LLaMA tokenizer
  vicuna: { bos: "<s>", eos: "</s>" }, // LLaMA tokenizer
  zephyr: { bos: "<s>", eos: "</s>" }, // HuggingFaceH4/zephyr-7b-beta
  phi3: { bos: "<s>", eos: "<|endoftext|>" }, // microsoft/Phi-3.5-mini-instruct
  gemma: { bos: "<bos>", eos: "<eos>" }, // google/gemma-3-4b-it
  airoboros: { bos: "<s>", eos: "</s>" }, // Llama 2 tokenizer
  dolphin: { bos: "<s>", eos: "<|im_end|>" }, // cognitivecomputations/dolphin-2.5-mixtral-8x7b
  "command-r": { bos: "<BOS_TOKEN>", eos: "<|END_OF_TURN_TOKEN|>" }, // CohereForAI/c4ai-command-r-v01
  deepseek: { bos: "<｜begin▁of▁sentence｜>", eos: "<｜end▁of▁sentence｜>" }, // deepseek-ai/DeepSeek-R1
};

/** The directory of the reference templates. */
export const TEMPLATES_DIR = new URL("../fixtures/chat-templates/", import.meta.url);

/** The Jinja text of a format's reference template. */
export function referenceTemplateText(name: string): string {
  return fs.readFileSync(new URL(`${name}.jinja`, TEMPLATES_DIR), "utf8");
}

/** A plain message, as a template sees it. */
export interface PlainMessage {
  role: string;
  content: string;
}

/**
 * The reference rendering with a generation prompt, the tokens of the
 * reference tokenizer (`bos: false` passes an empty `bos_token`, which
 * blanks every BOS the template writes: not what a backend that adds one
 * BOS itself gets, see per-turn-bos.test.ts).
 */
export function renderReference(
  name: string,
  messages: readonly PlainMessage[],
  options: { bos?: boolean } = {},
): string {
  const tokens = REFERENCE_TOKENS[name]!;
  return new Template(referenceTemplateText(name)).render({
    messages,
    add_generation_prompt: true,
    bos_token: options.bos === false ? "" : tokens.bos,
    eos_token: tokens.eos,
  });
}

/**
 * What `apply_chat_template(messages, continue_final_message=True)` gives
 * (transformers): the chat rendered without a generation prompt, cut right
 * after the last occurrence of the final message's text.
 */
export function continueReference(name: string, messages: readonly PlainMessage[]): string {
  const tokens = REFERENCE_TOKENS[name]!;
  const rendered = new Template(referenceTemplateText(name)).render({
    messages,
    add_generation_prompt: false,
    bos_token: tokens.bos,
    eos_token: tokens.eos,
  });
  const final = messages.at(-1)!.content;
  const at = rendered.lastIndexOf(final);
  if (at < 0) throw new Error(`${name}: the final message's text is not in the rendering`);
  return rendered.slice(0, at + final.length);
}
