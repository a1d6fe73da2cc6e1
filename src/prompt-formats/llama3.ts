/**
 * Llama 3 instruct: `<|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>`.
 * Reference: meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json
 * `chat_template` (test/fixtures/chat-templates/llama3.jinja): every role
 * (system included) gets its own header, texts are trimmed, BOS once at
 * the start, and the generation prompt is the assistant header.
 *
 * Tools: Llama 3.1's JSON tool calling (`tools/llama3-json.ts`), as Meta's
 * Llama 3.1 prompt-format documentation
 * (https://www.llama.com/docs/model-cards-and-prompt-formats/llama3_1/)
 * shows it: the functions at the start of the system message, an earlier
 * call as `{"name": …, "parameters": …}` in the assistant turn, and each tool
 * result in an `ipython` turn of its own.
 */
import { defineNamedFormat } from "./define.js";
import { llama3Json } from "./tools/llama3-json.js";
import type { PromptFormat } from "./types.js";

const header = (role: string) => `<|start_header_id|>${role}<|end_header_id|>\n\n`;

/** The Llama 3 instruct format. */
export const llama3: PromptFormat = defineNamedFormat({
  name: "llama3",
  description: "Llama 3 / 3.1 instruct: <|start_header_id|>role<|end_header_id|> … <|eot_id|>",
  stop: ["<|eot_id|>", "<|end_of_text|>", "<|start_header_id|>"],
  bos: "<|begin_of_text|>",
  eos: "<|eot_id|>",
  reference: "meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json",
  toolConvention: llama3Json,
  renderTurns(chat, { bos }) {
    let out = bos;
    for (const turn of chat.turns)
      out += `${header(turn.role === "tool" ? "ipython" : turn.role)}${turn.text.trim()}<|eot_id|>`;
    return `${out}${header("assistant")}${chat.prefix?.trimStart() ?? ""}`;
  },
});
