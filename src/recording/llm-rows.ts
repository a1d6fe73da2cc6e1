/**
 * Derivations of llm's rows from a record and its analysed input, used by
 * the row builder (exchange-rows.ts): `token_details`, `responses.reasoning`,
 * `turn_search` rows, and the turns and tool-row sources of a new
 * conversation's history rows.
 */
import { messageText, type LlmMessage } from "./llm-message.js";
import { pythonJsonDumps } from "./message-hash.js";
import type { ToolRowSource } from "./llm-tools.js";
import type { ExchangeRecord } from "./types.js";
import type { AnalyzedInput, HistoryPair } from "./threading.js";

/** A `turns` row (the columns llm-relay fills). */
export interface TurnRow {
  id: string;
  thread_id: string;
  parent_message_hash: string | null;
  tip_message_hash: string | null;
  model: string;
  resolved_model: string | null;
  options_json: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  /** `json.dumps(usage details)`, or null. */
  token_details: string | null;
  duration_ms: number;
  datetime_utc: string;
  response_json: string | null;
}

/** A `turn_search` row. */
export interface TurnSearchRow {
  turn_id: string;
  prompt: string;
  response: string;
}

/** `responses.reasoning` of a record: its reasoning text, null when it has none. */
export function recordReasoning(r: ExchangeRecord): string | null {
  return r.reasoning === undefined || r.reasoning === null || r.reasoning === "" ? null : r.reasoning;
}

/**
 * `token_details` of the record as llm writes it (`_dump` in 0.32's logs.py,
 * `json.dumps(self.token_details) if self.token_details else None` in 0.31.1):
 * Python's `json.dumps` of `usage.details`, NULL when absent or empty.
 */
export function tokenDetailsJson(r: ExchangeRecord): string | null {
  const details = r.usage?.details;
  if (details === undefined || details === null || Object.keys(details).length === 0) return null;
  return pythonJsonDumps(details);
}

/**
 * A turn's `turn_search` row as llm's `TURN_SEARCH_INSERT_SQL` derives it: the
 * text of its last input message when that is a user message, and the text of
 * its reply; null when both are empty.
 */
export function turnSearchRow(
  turnId: string,
  lastInput: LlmMessage | undefined,
  reply: LlmMessage | null,
): TurnSearchRow | null {
  const prompt = lastInput?.role === "user" ? messageText(lastInput) : "";
  const response = reply ? messageText(reply) : "";
  return prompt !== "" || response !== "" ? { turn_id: turnId, prompt, response } : null;
}

/**
 * The turns of a new conversation's history rows: for each earlier assistant
 * message, a turn with the same id as its `responses` row, parent the message
 * before it, tip the assistant message, 0 tokens and ms, no options and no
 * `response_json`. llm 0.32 hides a `responses` row whose id is a turn and
 * takes a turn's `system` from the first message of its chain, so the
 * history then shows the system prompt once, as the conversation llm itself
 * records does (a legacy row has `system` on the first row only and a NULL
 * after it, and `llm logs` prints the system again whenever it changes).
 * @param pairs `historyPairs(chat, input.boundary)`
 * @param ids the history rows' ids (`idsBefore`)
 */
export function historyTurnRows(
  pairs: readonly HistoryPair[],
  ids: readonly string[],
  input: AnalyzedInput,
  threadId: string,
  model: string,
  datetimeUtc: string,
): { turns: TurnRow[]; search: TurnSearchRow[] } {
  const turns: TurnRow[] = [];
  const search: TurnSearchRow[] = [];
  pairs.forEach((pair, i) => {
    const at = pair.assistantIndex;
    const id = ids[i]!;
    turns.push({
      id,
      thread_id: threadId,
      parent_message_hash: at > 0 ? input.hashes[at - 1]! : null,
      tip_message_hash: input.hashes[at]!,
      model,
      resolved_model: null,
      options_json: null,
      input_tokens: 0,
      output_tokens: 0,
      token_details: null,
      duration_ms: 0,
      datetime_utc: datetimeUtc,
      response_json: null,
    });
    const row = turnSearchRow(id, at > 0 ? input.messages[at - 1] : undefined, input.messages[at]!);
    if (row) search.push(row);
  });
  return { turns, search };
}

/** The tool-row sources of the history rows: the assistant message's calls, the pair's tool results. */
export function historyToolSources(
  pairs: readonly HistoryPair[],
  ids: readonly string[],
  messages: readonly LlmMessage[],
): ToolRowSource[] {
  return pairs.map((pair, i) => ({
    responseId: ids[i]!,
    hasTurn: true,
    reply: messages[pair.assistantIndex] ?? null,
    inputs: pair.inputIndexes.map((k) => messages[k]!),
  }));
}
