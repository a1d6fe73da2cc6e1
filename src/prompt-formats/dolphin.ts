/**
 * Dolphin (cognitivecomputations, Eric Hartford's fine-tunes): ChatML, as
 * its model cards state. Reference: cognitivecomputations/dolphin-2.5-mixtral-8x7b
 * tokenizer_config.json `chat_template` (test/fixtures/chat-templates/dolphin.jinja),
 * which is plain ChatML: no BOS, no default system message (the cards'
 * suggested "You are Dolphin, a helpful AI assistant." is not inserted).
 * Tools: MemGPT's JSON convention (`tools/memgpt.ts`), as MemGPT's
 * `dolphin` wrapper offered them.
 */
import { renderChatml } from "./chatml.js";
import { defineNamedFormat } from "./define.js";
import type { PromptFormat } from "./types.js";
import { memgpt } from "./tools/memgpt.js";

/** The Dolphin format. */
export const dolphin: PromptFormat = defineNamedFormat({
  name: "dolphin",
  description: "Dolphin fine-tunes (Mistral, Mixtral, Llama 3 bases): ChatML with <|im_end|> as EOS",
  stop: ["<|im_end|>", "<|im_start|>"],
  bos: null,
  eos: "<|im_end|>",
  reference: "cognitivecomputations/dolphin-2.5-mixtral-8x7b tokenizer_config.json",
  toolConvention: memgpt,
  renderTurns: renderChatml,
});
