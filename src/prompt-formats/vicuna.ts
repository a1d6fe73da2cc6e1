/**
 * Vicuna v1.1 (LMSYS, and the fine-tunes that copied it): `USER: …` /
 * `ASSISTANT: …</s>` lines. A community format without an official chat
 * template; the reference is text-generation-webui's instruction template
 * `Vicuna-v1.1.yaml` (test/fixtures/chat-templates/vicuna.jinja): Vicuna's
 * own preamble when the chat has no system message, `</s>` after every
 * answer, the generation prompt `ASSISTANT:` without a trailing space.
 */
import { defineNamedFormat } from "./define.js";
import { renderInstructionStyle, type InstructionStyle } from "./instruction-style.js";
import type { PromptFormat } from "./types.js";

const STYLE: InstructionStyle = {
  defaultSystem:
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.\n\n",
  systemSuffix: "\n\n",
  userPrefix: "USER: ",
  userSuffix: "\n",
  assistantPrefix: "ASSISTANT: ",
  assistantSuffix: "</s>\n",
  generationPrompt: "ASSISTANT:",
  prefixPrompt: "ASSISTANT: ",
};

/** The Vicuna format. */
export const vicuna: PromptFormat = defineNamedFormat({
  name: "vicuna",
  description: "Vicuna v1.1: USER: … ASSISTANT: …</s> (community format; text-generation-webui's template)",
  stop: ["</s>", "USER:"],
  bos: null,
  eos: "</s>",
  reference: "oobabooga/text-generation-webui user_data/instruction-templates/Vicuna-v1.1.yaml",
  renderTurns: (chat) => renderInstructionStyle(chat, STYLE),
});
