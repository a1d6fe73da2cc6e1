/**
 * Mistral instruct: `<s> [INST] system\n\nuser [/INST] answer</s>`.
 * Reference: mistralai/Mistral-7B-Instruct-v0.2 tokenizer_config.json
 * `chat_template` (Mistral's "v1" template with a system prompt;
 * test/fixtures/chat-templates/mistral-instruct.jinja). Mistral has no
 * system role: the template puts the system text, a blank line, then the
 * first user message inside the first `[INST]`. Texts are not trimmed;
 * there is no generation prompt (the prompt ends with ` [/INST]`). Later
 * system messages become user text and same-role neighbours are merged,
 * as the template requires alternation.
 *
 * Tools: Mistral's v3 convention (`tools/mistral.ts`): the offered
 * functions in `[AVAILABLE_TOOLS]` before the last user message's `[INST]`,
 * earlier calls as `[TOOL_CALLS] [...]` in the assistant turn, each result
 * as a `[TOOL_RESULTS] {...}[/TOOL_RESULTS]` turn (in the v1 layout's
 * spacing, which this format keeps).
 */
import { splitLeadingSystem } from "./chat-turns.js";
import { defineNamedFormat } from "./define.js";
import { mistral, splitAvailableTools } from "./tools/mistral.js";
import type { PromptFormat } from "./types.js";

/** The Mistral instruct format. */
export const mistralInstruct: PromptFormat = defineNamedFormat({
  name: "mistral-instruct",
  description:
    "Mistral / Mixtral instruct: <s> [INST] system + user [/INST] answer</s> (system merged into the first user turn)",
  stop: ["</s>", "[INST]"],
  bos: "<s>",
  eos: "</s>",
  reference: "mistralai/Mistral-7B-Instruct-v0.2 tokenizer_config.json (v1 template with a system prompt)",
  prepare: { laterSystemAsUser: true, mergeConsecutive: true },
  toolConvention: mistral,
  renderTurns(chat, { bos, eos }) {
    const { system: leading, rest } = splitLeadingSystem(chat.turns);
    // Offered tools: Mistral writes them right before the last user message's [INST].
    const { block: tools, rest: system } =
      leading === null ? { block: null, rest: null } : splitAvailableTools(leading);
    const lastUser = rest.map((turn) => turn.role).lastIndexOf("user");
    let out = bos;
    // A system message with no user message right after it still reaches the model, in its own [INST].
    if (system !== null && rest[0]?.role !== "user") out += ` [INST] ${system} [/INST]`;
    rest.forEach((turn, i) => {
      if (turn.role === "assistant") out += ` ${turn.text}${eos}`;
      else if (turn.role === "tool") out += turn.text;
      else {
        if (i === lastUser && tools !== null) out += tools;
        if (i === 0 && system !== null) out += ` [INST] ${system}\n\n${turn.text} [/INST]`;
        else out += ` [INST] ${turn.text} [/INST]`;
      }
    });
    if (lastUser < 0 && tools !== null) out += tools;
    return chat.prefix === null ? out : `${out} ${chat.prefix}`;
  },
});
