/**
 * Llama 2 chat: `<s>[INST] <<SYS>>\n…\n<</SYS>>\n\n… [/INST] … </s>`.
 * Reference: meta-llama/Llama-2-7b-chat-hf tokenizer_config.json
 * `chat_template` (test/fixtures/chat-templates/llama2.jinja): the system
 * message goes into the first user turn inside `<<SYS>>`; every user turn
 * starts with BOS; user and assistant texts are stripped; an assistant turn
 * ends with ` </s>`. There is no generation prompt: the prompt ends with
 * ` [/INST]`. Later system messages become user text (the template knows
 * only a leading one), and same-role neighbours are merged.
 */
import { splitLeadingSystem } from "./chat-turns.js";
import { defineNamedFormat } from "./define.js";
import type { PromptFormat } from "./types.js";

/** The Llama 2 chat format. */
export const llama2: PromptFormat = defineNamedFormat({
  name: "llama2",
  description: "Llama 2 chat: <s>[INST] <<SYS>> system <</SYS>> user [/INST] answer </s>",
  stop: ["</s>", "[INST]"],
  bos: "<s>",
  eos: "</s>",
  reference: "meta-llama/Llama-2-7b-chat-hf tokenizer_config.json",
  prepare: { laterSystemAsUser: true, mergeConsecutive: true },
  renderTurns(chat, { bos, eos }) {
    const { system, rest } = splitLeadingSystem(chat.turns);
    if (rest.length === 0 && system !== null && chat.prefix === null) rest.push({ role: "user", text: "" });
    let out = "";
    rest.forEach((turn, i) => {
      const text = i === 0 && system !== null ? `<<SYS>>\n${system}\n<</SYS>>\n\n${turn.text}` : turn.text;
      if (turn.role === "assistant") out += ` ${text.trim()} ${eos}`;
      else out += `${bos}[INST] ${text.trim()} [/INST]`;
    });
    return chat.prefix === null ? out : `${out} ${chat.prefix.trimStart()}`;
  },
});
