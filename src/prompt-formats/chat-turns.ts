/**
 * Turns an OpenAI message list into the plain turns the named prompt
 * formats render: one role and one text per turn, plus the trailing
 * assistant prefix (if any) the model is to continue.
 *
 * What happens to the parts a plain-text format has no place for:
 * - `developer` is OpenAI's newer name for `system` and is treated as one;
 *   `function` (the legacy tool-result role) is treated as `tool`.
 * - Content-part arrays keep their text parts, joined (`contentText`).
 * - An assistant message's `tool_calls` are appended to its text (after a
 *   newline), each written by the tool convention's `renderCall`, and
 *   `tool` messages become a user turn written by its `renderResults`
 *   (tool results that follow each other share one user turn). The
 *   convention is `PrepareOptions.toolConvention` when a format passes one,
 *   else Hermes / Qwen 2.5 (`tools/hermes.ts`, `chatml`'s own), which many
 *   local models were tuned on: `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>`
 *   per call, `<tool_response>\n…\n</tool_response>` per result. So the
 *   history is written the way `chatml` offers tools and reads calls. A
 *   convention whose results are turns of their own (`resultTurns: "tool"`,
 *   Llama 3.1) gets one `tool` turn per result instead.
 * - A final assistant message with text (and no tool calls) is not a turn
 *   but the prefix: the format writes the assistant header and the text and
 *   leaves the turn open. An empty final assistant message is dropped, so the
 *   format ends with its usual generation prompt.
 */
import { contentText, type ChatMessage } from "../protocol/chat-request.js";
import { DEFAULT_HISTORY_CONVENTION } from "./tools/registry.js";
import type { ToolConvention } from "./tools/types.js";

/**
 * The role of a prepared turn: `tool` only for a convention whose results
 * are turns of their own (`ToolConvention.resultTurns`).
 */
export type TurnRole = "system" | "user" | "assistant" | "tool";

/** One turn of a prepared chat. */
export interface Turn {
  role: TurnRole;
  text: string;
}

/** A chat ready for a named format. */
export interface PreparedChat {
  /** The turns in order, tool results already turned into user turns. */
  turns: Turn[];
  /** The text of a final assistant message to continue, or null (then the format writes its generation prompt). */
  prefix: string | null;
}

/** How a format wants the turns shaped. */
export interface PrepareOptions {
  /**
   * Whether system messages after the first turn become user turns. For
   * formats whose templates know a system message only at the start
   * (Llama 2, Mistral, Gemma).
   */
  laterSystemAsUser?: boolean;
  /**
   * Whether consecutive turns of the same role are merged into one (texts
   * joined with a blank line). For formats whose templates require
   * user/assistant alternation.
   */
  mergeConsecutive?: boolean;
  /** The convention tool calls and results are written in (default: Hermes / Qwen 2.5). */
  toolConvention?: ToolConvention;
}

/**
 * The turns and prefix of `messages` (see the module comment for what
 * happens to tool calls, tool results and content parts).
 */
export function prepareChat(messages: readonly ChatMessage[], options: PrepareOptions = {}): PreparedChat {
  const convention = options.toolConvention ?? DEFAULT_HISTORY_CONVENTION;
  const turns: Turn[] = [];
  /** The results of the tool messages in a row so far, rendered into the last turn. */
  let results: string[] = [];
  for (const message of messages) {
    const role = message.role;
    if (role === "tool" || role === "function") {
      if (convention.resultTurns === "tool") {
        turns.push({ role: "tool", text: convention.renderResults([contentText(message.content)]) });
        continue;
      }
      results.push(contentText(message.content));
      const text = convention.renderResults(results);
      if (results.length > 1) turns.at(-1)!.text = text;
      else turns.push({ role: "user", text });
      continue;
    }
    results = [];
    if (role === "assistant") turns.push({ role: "assistant", text: assistantText(message, convention) });
    else if (role === "system" || role === "developer")
      turns.push({ role: "system", text: contentText(message.content) });
    else turns.push({ role: "user", text: contentText(message.content) });
  }

  let prefix: string | null = null;
  const last = messages.at(-1);
  if (last?.role === "assistant" && !last.tool_calls?.length) {
    turns.pop();
    const text = contentText(last.content);
    if (text.trim() !== "") prefix = text;
  }

  let shaped = turns;
  if (options.laterSystemAsUser)
    shaped = shaped.map((turn, i) => (i > 0 && turn.role === "system" ? { role: "user", text: turn.text } : turn));
  if (options.mergeConsecutive) shaped = mergeSameRole(shaped);
  return { turns: shaped, prefix };
}

/** The first turn's text when it is a system turn, and the turns after it. */
export function splitLeadingSystem(turns: readonly Turn[]): { system: string | null; rest: Turn[] } {
  const first = turns[0];
  if (first?.role === "system") return { system: first.text, rest: turns.slice(1) };
  return { system: null, rest: [...turns] };
}

/** The assistant's text with its tool calls appended in the convention's form. */
function assistantText(message: ChatMessage, convention: ToolConvention): string {
  const text = contentText(message.content);
  const written = (message.tool_calls ?? []).map((call) => ({
    name: call.function.name,
    arguments: call.function.arguments,
  }));
  if (written.length === 0) return text;
  const calls = convention.renderCalls
    ? [convention.renderCalls(written)]
    : written.map((call) => convention.renderCall(call));
  return [text, ...calls].filter((part) => part !== "").join("\n");
}

function mergeSameRole(turns: readonly Turn[]): Turn[] {
  const out: Turn[] = [];
  for (const turn of turns) {
    const last = out.at(-1);
    // Tool-result turns each stay their own (each is a message of its own in the conventions that have them).
    if (last && last.role === turn.role && turn.role !== "tool") last.text = `${last.text}\n\n${turn.text}`;
    else out.push({ ...turn });
  }
  return out;
}
