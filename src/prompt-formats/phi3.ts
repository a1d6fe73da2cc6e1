/**
 * Phi-3 / Phi-3.5 instruct: `<|system|>\n…<|end|>\n<|user|>\n…<|end|>\n<|assistant|>\n`.
 * Reference: microsoft/Phi-3.5-mini-instruct tokenizer_config.json
 * `chat_template` (test/fixtures/chat-templates/phi3.jinja): a system turn
 * only when its text is not empty, no BOS text, no trimming.
 */
import { defineNamedFormat } from "./define.js";
import type { PromptFormat } from "./types.js";

/** The Phi-3 format. */
export const phi3: PromptFormat = defineNamedFormat({
  name: "phi3",
  description: "Phi-3 / Phi-3.5 instruct: <|system|> <|user|> <|assistant|> turns ended by <|end|>",
  stop: ["<|end|>", "<|endoftext|>", "<|user|>"],
  bos: null,
  eos: "<|endoftext|>",
  reference: "microsoft/Phi-3.5-mini-instruct tokenizer_config.json",
  renderTurns(chat) {
    let out = "";
    for (const turn of chat.turns) {
      if (turn.role === "system" && turn.text === "") continue;
      out += `<|${turn.role}|>\n${turn.text}<|end|>\n`;
    }
    return `${out}<|assistant|>\n${chat.prefix ?? ""}`;
  },
});
