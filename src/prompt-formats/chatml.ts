/**
 * ChatML (`<|im_start|>role\n…<|im_end|>`), as OpenAI documented it and as
 * Qwen, Hermes and many fine-tunes use it. The default format.
 *
 * Reference: teknium/OpenHermes-2.5-Mistral-7B tokenizer_config.json
 * `chat_template` (test/fixtures/chat-templates/chatml.jinja). No system
 * default, no BOS, no trimming. Its tool convention is Hermes / Qwen 2.5
 * (`tools/hermes.ts`): the ChatML models that call functions (Qwen 2.5,
 * Hermes 2 Pro, Hermes 3) were trained on it.
 */
import type { PreparedChat } from "./chat-turns.js";
import { defineNamedFormat } from "./define.js";
import type { PromptFormat } from "./types.js";

/** Renders prepared turns the ChatML way (shared with `dolphin`). */
export function renderChatml(chat: PreparedChat): string {
  let out = "";
  for (const turn of chat.turns) out += `<|im_start|>${turn.role}\n${turn.text}<|im_end|>\n`;
  return `${out}<|im_start|>assistant\n${chat.prefix ?? ""}`;
}

/** The ChatML format, with the Hermes tool convention. */
export const chatml: PromptFormat = {
  ...defineNamedFormat({
    name: "chatml",
    description: "ChatML: <|im_start|>role … <|im_end|> (Qwen, Hermes, Yi, many fine-tunes); the default",
    stop: ["<|im_end|>", "<|im_start|>"],
    bos: null,
    eos: "<|im_end|>",
    reference: "teknium/OpenHermes-2.5-Mistral-7B tokenizer_config.json",
    renderTurns: renderChatml,
  }),
  toolConvention: "hermes",
};
