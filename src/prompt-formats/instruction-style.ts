/**
 * The shape shared by the community instruction formats (Alpaca, Vicuna,
 * Airoboros) as text-generation-webui's instruction templates write them:
 * a default system text when the chat has no system message, then every
 * system text, user turn and assistant turn with its own prefix and
 * suffix, and a generation prompt.
 */
import type { PreparedChat } from "./chat-turns.js";

/** The markup of one instruction format. */
export interface InstructionStyle {
  /** Written first when the chat has no system message at all. */
  defaultSystem: string;
  /** Written after every system text. */
  systemSuffix: string;
  userPrefix: string;
  userSuffix: string;
  assistantPrefix: string;
  assistantSuffix: string;
  /** Ends a prompt that has no assistant prefix to continue. */
  generationPrompt: string;
  /** Written before the text of an assistant prefix to continue. */
  prefixPrompt: string;
}

/** Renders prepared turns in an instruction style. */
export function renderInstructionStyle(chat: PreparedChat, style: InstructionStyle): string {
  let out = chat.turns.some((turn) => turn.role === "system") ? "" : style.defaultSystem;
  for (const turn of chat.turns) {
    if (turn.role === "system") out += `${turn.text}${style.systemSuffix}`;
    else if (turn.role === "user" || turn.role === "tool") out += `${style.userPrefix}${turn.text}${style.userSuffix}`;
    else out += `${style.assistantPrefix}${turn.text}${style.assistantSuffix}`;
  }
  return chat.prefix === null ? `${out}${style.generationPrompt}` : `${out}${style.prefixPrompt}${chat.prefix}`;
}
