/**
 * Cohere Command R / R+: `<BOS_TOKEN><|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>…<|END_OF_TURN_TOKEN|>`.
 * Reference: the default `chat_template` of CohereForAI/c4ai-command-r-v01
 * (and -plus) tokenizer_config.json (test/fixtures/chat-templates/command-r.jinja):
 * the leading system message is written as it is, user and chatbot texts
 * are stripped, the generation prompt is the chatbot header. Later system
 * messages are written as system turns, as Cohere's tool-use and RAG
 * templates do (the default template knows only a leading one).
 */
import { splitLeadingSystem } from "./chat-turns.js";
import { defineNamedFormat } from "./define.js";
import type { PromptFormat } from "./types.js";

const START = "<|START_OF_TURN_TOKEN|>";
const END = "<|END_OF_TURN_TOKEN|>";
/** The turn tokens (`tool` turns only come from a convention with result turns, which this format has none of: as user). */
const TOKEN = {
  system: "<|SYSTEM_TOKEN|>",
  user: "<|USER_TOKEN|>",
  assistant: "<|CHATBOT_TOKEN|>",
  tool: "<|USER_TOKEN|>",
} as const;

/** The Command R format. */
export const commandR: PromptFormat = defineNamedFormat({
  name: "command-r",
  description: "Cohere Command R / R+: <|START_OF_TURN_TOKEN|><|USER_TOKEN|> … <|END_OF_TURN_TOKEN|>",
  stop: ["<|END_OF_TURN_TOKEN|>"],
  bos: "<BOS_TOKEN>",
  eos: "<|END_OF_TURN_TOKEN|>",
  reference: "CohereForAI/c4ai-command-r-v01 tokenizer_config.json (default template)",
  renderTurns(chat, { bos }) {
    const { system, rest } = splitLeadingSystem(chat.turns);
    let out = bos;
    if (system !== null) out += `${START}${TOKEN.system}${system}${END}`;
    for (const turn of rest) out += `${START}${TOKEN[turn.role]}${turn.text.trim()}${END}`;
    return `${out}${START}${TOKEN.assistant}${chat.prefix?.trimStart() ?? ""}`;
  },
});
