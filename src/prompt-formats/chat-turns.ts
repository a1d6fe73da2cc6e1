/**
 * Turns an OpenAI message list into the plain turns the named prompt
 * formats render: one role and one text per turn, plus the trailing
 * assistant prefix (if any) the model is to continue.
 *
 * What happens to the parts a plain-text format has no place for:
 * - `developer` is OpenAI's newer name for `system` and is treated as one;
 *   `function` (the legacy tool-result role) is treated as `tool`.
 * - Content-part arrays keep their text parts, joined (`contentText`).
 * - An assistant message's `tool_calls` are appended to its text, one
 *   `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>` block per call
 *   (the Hermes / Qwen 2.5 convention that many local models were tuned on).
 * - `tool` messages become a user turn holding
 *   `<tool_response>\n…\n</tool_response>` (the same convention); tool results
 *   that follow each other share one user turn, separated by a newline.
 * - A final assistant message with text (and no tool calls) is not a turn
 *   but the prefix: the format writes the assistant header and the text and
 *   leaves the turn open. An empty final assistant message is dropped, so the
 *   format ends with its usual generation prompt.
 */
import { contentText, type ChatMessage } from "../protocol/chat-request.js";

/** The role of a prepared turn. */
export type TurnRole = "system" | "user" | "assistant";

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
}

/**
 * The turns and prefix of `messages` (see the module comment for what
 * happens to tool calls, tool results and content parts).
 */
export function prepareChat(messages: readonly ChatMessage[], options: PrepareOptions = {}): PreparedChat {
  const turns: Turn[] = [];
  let previousWasTool = false;
  for (const message of messages) {
    const role = message.role;
    if (role === "tool" || role === "function") {
      const block = `<tool_response>\n${contentText(message.content)}\n</tool_response>`;
      const last = turns.at(-1);
      if (previousWasTool && last) last.text += `\n${block}`;
      else turns.push({ role: "user", text: block });
      previousWasTool = true;
      continue;
    }
    previousWasTool = false;
    if (role === "assistant") turns.push({ role: "assistant", text: assistantText(message) });
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

/** The assistant's text with its tool calls appended as `<tool_call>` blocks. */
function assistantText(message: ChatMessage): string {
  const text = contentText(message.content);
  const calls = (message.tool_calls ?? []).map((call) => {
    const json = JSON.stringify({ name: call.function.name, arguments: parseArguments(call.function.arguments) });
    return `<tool_call>\n${json}\n</tool_call>`;
  });
  if (calls.length === 0) return text;
  return [text, ...calls].filter((part) => part !== "").join("\n");
}

/** A tool call's `arguments` (a JSON string on the wire) as a value, or the string itself when it is not JSON. */
function parseArguments(raw: string | undefined): unknown {
  if (raw === undefined || raw === "") return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function mergeSameRole(turns: readonly Turn[]): Turn[] {
  const out: Turn[] = [];
  for (const turn of turns) {
    const last = out.at(-1);
    if (last && last.role === turn.role) last.text = `${last.text}\n\n${turn.text}`;
    else out.push({ ...turn });
  }
  return out;
}
