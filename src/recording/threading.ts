/**
 * How one exchange's input messages split into history and new input,
 * and what the legacy `responses` rows of a new conversation's history
 * contain. Follows docs/llm-logs-db.md ("Threading an incoming request").
 * Pure functions; the store does the SQL.
 */
import { decodeTime } from "ulid";
import { ulidAt } from "./ulid.js";
import { contentText, type ChatMessage } from "../protocol/chat-request.js";
import { toLlmMessages, type LlmMessage } from "./llm-message.js";
import { messageHash, type CachedHash } from "./message-hash.js";
import type { ChainHasher, ReplyAliasResolver } from "./hash-chains.js";

/** The input of one exchange, as the message store sees it. */
export interface AnalyzedInput {
  /** The input messages as llm messages, in order. */
  messages: LlmMessage[];
  /** `hashes[i]` is the hash of `messages[i]` in this chain. */
  hashes: string[];
  /** Index of the first trailing user/tool message; `messages[0..boundary)` is the history. */
  boundary: number;
  /** Hash of the history's last message (what a thread to join must point at), or null when there is no history. */
  historyTipHash: string | null;
  /** Hash of the last input message (the turn's parent), or null when there are no messages. */
  lastInputHash: string | null;
  /** The request's leading system/developer messages' text, joined with "\n"; null when it has none. */
  systemText: string | null;
  /** The conversation name source: the first user message's text, else the system text, else "". */
  nameSource: string;
  /**
   * The legacy `prompt` of the live row: the trailing user messages' text joined with "\n"; null when
   * there is none (tool results only: llm 0.31.1's `prompt._prompt` of a tool chain's next response is
   * None, and its tool results go to `tool_results`).
   */
  prompt: string | null;
  /** With a cache: the cache entry of `messages[i]` (its `stored` flag says the row is in the file); else empty. */
  cached: CachedHash[];
}

function isInputRole(role: ChatMessage["role"]): boolean {
  return role === "user" || role === "tool" || role === "function";
}

/** The text of the user messages among `messages`, joined with "\n"; null when there is none. */
function userText(messages: readonly ChatMessage[]): string | null {
  const users = messages.filter((m) => m.role === "user");
  return users.length > 0 ? users.map((m) => contentText(m.content)).join("\n") : null;
}

function isSystemRole(role: ChatMessage["role"]): boolean {
  return role === "system" || role === "developer";
}

/**
 * Hashes the input messages in chain order and finds the history boundary.
 * @param chat the validated input messages of the request
 * @param hasher where known hashes are looked up (and new ones kept); none: hash every message
 * @param resolve with a hasher: finds the stored reply with reasoning an assistant message of the
 *   history stands for (see `ReplyAliasResolver`), so the chain continues from the stored reply
 */
export function analyzeInput(
  chat: readonly ChatMessage[],
  hasher?: ChainHasher,
  resolve?: ReplyAliasResolver,
): AnalyzedInput {
  const messages = toLlmMessages(chat);
  let hashes: string[];
  let cached: CachedHash[] = [];
  if (hasher) {
    cached = hasher.hashChain(messages, resolve);
    hashes = cached.map((entry) => entry.hash);
  } else {
    hashes = [];
    let parent: string | null = null;
    for (const message of messages) {
      parent = messageHash(message, parent);
      hashes.push(parent);
    }
  }
  let boundary = chat.length;
  while (boundary > 0 && isInputRole(chat[boundary - 1]!.role)) boundary--;

  const leadingSystem: string[] = [];
  for (const m of chat) {
    if (!isSystemRole(m.role)) break;
    leadingSystem.push(contentText(m.content));
  }
  const systemText = leadingSystem.length > 0 ? leadingSystem.join("\n") : null;
  const firstUser = chat.find((m) => m.role === "user");

  // The prompt is the user text of the trailing input, read across system messages that come after the
  // leading ones (Claude Code puts a system message after the user's text); the boundary is unchanged.
  let promptStart = boundary;
  while (
    promptStart > leadingSystem.length &&
    (isInputRole(chat[promptStart - 1]!.role) || isSystemRole(chat[promptStart - 1]!.role))
  )
    promptStart--;
  const prompt = userText(chat.slice(promptStart));

  return {
    messages,
    hashes,
    boundary,
    historyTipHash: boundary > 0 ? (hashes[boundary - 1] ?? null) : null,
    lastInputHash: hashes.length > 0 ? (hashes[hashes.length - 1] ?? null) : null,
    systemText,
    nameSource: firstUser ? contentText(firstUser.content) : (systemText ?? ""),
    prompt,
    cached,
  };
}

/** One earlier user/assistant exchange of the history, as a legacy `responses` row. */
export interface HistoryPair {
  /** The user messages' text before the assistant message, joined with "\n"; null when there is none (tool results only). */
  prompt: string | null;
  /** The assistant message's text. */
  response: string;
  /** `prompt_json`: `{"messages": [the user/tool messages of this pair, as the client sent them]}`. */
  promptJson: { messages: ChatMessage[] };
  /** Index (in `chat`, and in `toLlmMessages(chat)`, which maps one for one) of the assistant message. */
  assistantIndex: number;
  /** Indexes of the pair's user/tool messages. */
  inputIndexes: number[];
}

/**
 * The earlier exchanges in the history (`chat[0..boundary)`): each
 * assistant message with the user/tool messages since the previous one.
 * System messages are not part of any pair; user messages with no
 * assistant answer after them are dropped.
 */
export function historyPairs(chat: readonly ChatMessage[], boundary: number): HistoryPair[] {
  const pairs: HistoryPair[] = [];
  let pending: ChatMessage[] = [];
  let pendingIndexes: number[] = [];
  for (let i = 0; i < boundary; i++) {
    const m = chat[i]!;
    if (isInputRole(m.role)) {
      pending.push(m);
      pendingIndexes.push(i);
    } else if (m.role === "assistant") {
      pairs.push({
        prompt: userText(pending),
        response: contentText(m.content),
        promptJson: { messages: pending },
        assistantIndex: i,
        inputIndexes: pendingIndexes,
      });
      pending = [];
      pendingIndexes = [];
    }
  }
  return pairs;
}

/**
 * `count` new lowercase ULIDs, ascending, that all sort before `beforeId`:
 * their time part is one ms before `beforeId`'s (and before `startedAt`).
 * Not drawn from the process-wide monotonic factory, whose ids never go
 * back in time.
 * @param beforeId a ULID (any case)
 * @param startedAt ms since the epoch of the exchange
 */
export function idsBefore(beforeId: string, startedAt: number, count: number): string[] {
  const time = Math.max(0, Math.min(decodeTime(beforeId.toUpperCase()), startedAt) - 1);
  const ids = Array.from({ length: count }, () => ulidAt(time));
  return ids.sort();
}
