/**
 * Alpaca (Stanford Alpaca and its many fine-tunes): `### Instruction:` /
 * `### Response:` blocks. A community format without an official chat
 * template; the reference is text-generation-webui's instruction template
 * `Alpaca.yaml` (test/fixtures/chat-templates/alpaca.jinja): Alpaca's own
 * preamble when the chat has no system message, blocks separated by a
 * blank line, no BOS, no EOS after answers.
 */
import { defineNamedFormat } from "./define.js";
import { renderInstructionStyle, type InstructionStyle } from "./instruction-style.js";
import type { PromptFormat } from "./types.js";

const STYLE: InstructionStyle = {
  defaultSystem:
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n",
  systemSuffix: "\n\n",
  userPrefix: "### Instruction:\n",
  userSuffix: "\n\n",
  assistantPrefix: "### Response:\n",
  assistantSuffix: "\n\n",
  generationPrompt: "### Response:\n",
  prefixPrompt: "### Response:\n",
};

/** The Alpaca format. */
export const alpaca: PromptFormat = defineNamedFormat({
  name: "alpaca",
  description: "Alpaca: ### Instruction: … ### Response: (community format; text-generation-webui's template)",
  stop: ["### Instruction:", "</s>"],
  bos: null,
  eos: "</s>",
  reference: "oobabooga/text-generation-webui user_data/instruction-templates/Alpaca.yaml",
  renderTurns: (chat) => renderInstructionStyle(chat, STYLE),
});
