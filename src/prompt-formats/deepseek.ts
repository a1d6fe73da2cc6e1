/**
 * DeepSeek V3 / R1 (and the R1 distills): `<｜begin▁of▁sentence｜>system<｜User｜>…<｜Assistant｜>…<｜end▁of▁sentence｜>`.
 * Reference: deepseek-ai/DeepSeek-R1 tokenizer_config.json `chat_template`
 * (test/fixtures/chat-templates/deepseek.jinja): every system message goes
 * at the start (joined by a blank line) without a role marker; an earlier
 * assistant answer keeps only what follows its last `</think>`; no
 * trimming; the generation prompt is `<｜Assistant｜>`. (The tokens use the
 * full-width bar U+FF5C and U+2581.)
 */
import { defineNamedFormat } from "./define.js";
import type { PromptFormat } from "./types.js";

const USER = "<｜User｜>";
const ASSISTANT = "<｜Assistant｜>";
const END = "<｜end▁of▁sentence｜>";

/** The DeepSeek format. */
export const deepseek: PromptFormat = defineNamedFormat({
  name: "deepseek",
  description: "DeepSeek V3 / R1 and R1 distills: <｜User｜> … <｜Assistant｜> … <｜end▁of▁sentence｜>",
  stop: [END, USER],
  bos: "<｜begin▁of▁sentence｜>",
  eos: END,
  reference: "deepseek-ai/DeepSeek-R1 tokenizer_config.json",
  renderTurns(chat, { bos }) {
    const system = chat.turns
      .filter((turn) => turn.role === "system")
      .map((turn) => turn.text)
      .join("\n\n");
    let out = bos + system;
    for (const turn of chat.turns) {
      if (turn.role === "user") out += `${USER}${turn.text}`;
      else if (turn.role === "assistant") out += `${ASSISTANT}${turn.text.split("</think>").at(-1) ?? ""}${END}`;
    }
    return `${out}${ASSISTANT}${chat.prefix ?? ""}`;
  },
});
