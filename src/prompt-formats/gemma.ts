/**
 * Gemma instruct: `<bos><start_of_turn>user\n…<end_of_turn>\n<start_of_turn>model\n`.
 * Reference: google/gemma-3-*-it tokenizer_config.json `chat_template`
 * (test/fixtures/chat-templates/gemma.jinja). Gemma has no system role: the
 * template writes the system text and a blank line at the start of the
 * first turn. The assistant's role is `model`; turn texts are trimmed (the
 * system text is not). Later system messages become user text and
 * same-role neighbours are merged, as the template requires alternation.
 */
import { splitLeadingSystem } from "./chat-turns.js";
import { defineNamedFormat } from "./define.js";
import type { PromptFormat } from "./types.js";

/** The Gemma instruct format. */
export const gemma: PromptFormat = defineNamedFormat({
  name: "gemma",
  description:
    "Gemma / Gemma 2 / Gemma 3 instruct: <start_of_turn>user|model … <end_of_turn> (system merged into the first user turn)",
  stop: ["<end_of_turn>", "<eos>", "<start_of_turn>"],
  bos: "<bos>",
  eos: "<eos>",
  reference: "google/gemma-3-4b-it tokenizer_config.json",
  prepare: { laterSystemAsUser: true, mergeConsecutive: true },
  renderTurns(chat, { bos }) {
    const { system, rest } = splitLeadingSystem(chat.turns);
    const firstPrefix = system === null ? "" : `${system}\n\n`;
    // A lone system message still reaches the model, as the text of a user turn.
    if (rest.length === 0 && system !== null && chat.prefix === null) rest.push({ role: "user", text: "" });
    let out = bos;
    rest.forEach((turn, i) => {
      const role = turn.role === "assistant" ? "model" : turn.role;
      out += `<start_of_turn>${role}\n${i === 0 ? firstPrefix : ""}${turn.text.trim()}<end_of_turn>\n`;
    });
    if (chat.prefix === null) return `${out}<start_of_turn>model\n`;
    return `${out}<start_of_turn>model\n${rest.length === 0 ? firstPrefix : ""}${chat.prefix.trimStart()}`;
  },
});
