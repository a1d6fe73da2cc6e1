/**
 * Zephyr (HuggingFaceH4, also TinyLlama chat): `<|role|>\n…</s>\n`.
 * Reference: HuggingFaceH4/zephyr-7b-beta tokenizer_config.json
 * `chat_template` (test/fixtures/chat-templates/zephyr.jinja): every turn,
 * system included, ends with the EOS text and a newline; no BOS; no
 * trimming; the generation prompt is `<|assistant|>\n`.
 */
import { defineNamedFormat } from "./define.js";
import type { PromptFormat } from "./types.js";

/** The Zephyr format. */
export const zephyr: PromptFormat = defineNamedFormat({
  name: "zephyr",
  description: "Zephyr / TinyLlama chat: <|system|> <|user|> <|assistant|> turns ended by </s>",
  stop: ["</s>", "<|user|>"],
  bos: null,
  eos: "</s>",
  reference: "HuggingFaceH4/zephyr-7b-beta tokenizer_config.json",
  renderTurns(chat, { eos }) {
    let out = "";
    for (const turn of chat.turns) out += `<|${turn.role}|>\n${turn.text}${eos}\n`;
    return `${out}<|assistant|>\n${chat.prefix ?? ""}`;
  },
});
