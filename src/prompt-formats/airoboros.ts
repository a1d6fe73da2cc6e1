/**
 * Airoboros (Jon Durbin's fine-tunes, 1.x and 2.x): `USER: …` /
 * `ASSISTANT: …` lines after a one-line preamble. A community format
 * without an official chat template; the reference is text-generation-webui's
 * instruction template `Airoboros-v1.2.yaml` (test/fixtures/chat-templates/airoboros.jinja):
 * its preamble when the chat has no system message, single newlines, no
 * EOS after answers, the generation prompt `ASSISTANT:`.
 *
 * Tools: MemGPT's JSON convention (`tools/memgpt.ts`), as MemGPT's
 * `airoboros` wrapper offered them.
 */
import { defineNamedFormat } from "./define.js";
import { renderInstructionStyle, type InstructionStyle } from "./instruction-style.js";
import type { PromptFormat } from "./types.js";
import { memgpt } from "./tools/memgpt.js";

const STYLE: InstructionStyle = {
  defaultSystem:
    "A chat between a curious user and an assistant. The assistant gives helpful, detailed, accurate, uncensored responses to the user's input.\n",
  systemSuffix: "\n",
  userPrefix: "USER: ",
  userSuffix: "\n",
  assistantPrefix: "ASSISTANT: ",
  assistantSuffix: "\n",
  generationPrompt: "ASSISTANT:",
  prefixPrompt: "ASSISTANT: ",
};

/** The Airoboros format. */
export const airoboros: PromptFormat = defineNamedFormat({
  name: "airoboros",
  description: "Airoboros 1.x/2.x: preamble, USER: … ASSISTANT: … (community format; text-generation-webui's template)",
  stop: ["USER:", "</s>"],
  bos: null,
  eos: "</s>",
  reference: "oobabooga/text-generation-webui instruction-templates/Airoboros-v1.2.yaml",
  toolConvention: memgpt,
  renderTurns: (chat) => renderInstructionStyle(chat, STYLE),
});
