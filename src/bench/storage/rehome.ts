/**
 * Moves a bench call's recorded exchange into the run's own conversation.
 *
 * The recorder threads every call by its messages (docs/llm-logs-db.md,
 * "Threading"): a replayed request usually starts a new conversation, with
 * 0-token history rows for its earlier turns, and may even join a user's
 * thread whose tip is the replayed history. A benchmark must not leave
 * such traces in the user's conversations, so once a call is recorded its
 * `responses` row and its `turns` row move to the bench conversation
 * (`conversations` + `threads`, named `bench <run id> <label>`, thread tip
 * NULL so no request ever joins it); the conversation the recorder created
 * for it (holding nothing but history rows) is removed, and a thread it
 * joined gets its tip back.
 */
import type { Database } from "better-sqlite3";
import { threadDatetime } from "../../recording/llm-format.js";
import { newUlid } from "../../recording/ulid.js";

/** A bench conversation: where one label's (candidate's, or the judge's) answers of one run are recorded. */
export interface BenchConversation {
  /** `conversations.id` = `threads.id` (a lowercase ULID). */
  id: string;
  /** `bench <run id> <label>`. */
  name: string;
  /** `conversations.model`: the candidate (or judge) model. */
  model: string;
}

/** The name of the bench conversation of `label` in run `runId`. */
export function benchConversationName(runId: string, label: string): string {
  return `bench ${runId} ${label}`;
}

/** A new bench conversation (not yet in the file; {@link rehomeExchange} creates its rows). */
export function newBenchConversation(runId: string, label: string, model: string): BenchConversation {
  return { id: newUlid(), name: benchConversationName(runId, label), model };
}

/** A `responses` row written for a new conversation's history: 0 tokens, 0 ms, no exchange row of ours. */
const IS_HISTORY_ROW = `coalesce(r.input_tokens, 0) = 0 AND coalesce(r.output_tokens, 0) = 0 AND coalesce(r.duration_ms, 0) = 0
  AND NOT EXISTS (SELECT 1 FROM llm_relay_exchanges x WHERE x.response_id = r.id)`;

/** A `turns` row written with a history row (same id, 0 tokens, 0 ms, no exchange row of ours). */
const IS_HISTORY_TURN = `coalesce(t.input_tokens, 0) = 0 AND coalesce(t.output_tokens, 0) = 0 AND coalesce(t.duration_ms, 0) = 0
  AND NOT EXISTS (SELECT 1 FROM llm_relay_exchanges x WHERE x.response_id = t.id)`;

/**
 * Moves the exchange `responseId` into `target` (creating its
 * `conversations` and `threads` rows when missing), in one transaction.
 * @returns false when the exchange is not in the file (recording is off)
 */
export function rehomeExchange(db: Database, responseId: string, target: BenchConversation): boolean {
  return db.transaction((): boolean => {
    const row = db.prepare(`SELECT conversation_id AS conversationId FROM responses WHERE id = ?`).get(responseId) as
      { conversationId: string | null } | undefined;
    if (!row) return false;
    db.prepare(`INSERT OR IGNORE INTO conversations (id, name, model) VALUES (?, ?, ?)`).run(
      target.id,
      target.name,
      target.model,
    );
    db.prepare(
      `INSERT OR IGNORE INTO threads (id, name, tip_message_hash, forked_from, datetime_utc) VALUES (?, ?, NULL, NULL, ?)`,
    ).run(target.id, target.name, threadDatetime(Date.now()));
    const old = row.conversationId;
    if (old === target.id) return true;
    const turn = db
      .prepare(`SELECT parent_message_hash AS parent, tip_message_hash AS tip FROM turns WHERE id = ?`)
      .get(responseId) as { parent: string | null; tip: string | null } | undefined;
    db.prepare(`UPDATE responses SET conversation_id = ? WHERE id = ?`).run(target.id, responseId);
    if (turn) db.prepare(`UPDATE turns SET thread_id = ? WHERE id = ?`).run(target.id, responseId);
    if (old === null) return true;

    const otherTurns = (
      db.prepare(`SELECT count(*) AS n FROM turns t WHERE t.thread_id = ? AND NOT (${IS_HISTORY_TURN})`).get(old) as {
        n: number;
      }
    ).n;
    const liveRows = (
      db
        .prepare(`SELECT count(*) AS n FROM responses r WHERE r.conversation_id = ? AND NOT (${IS_HISTORY_ROW})`)
        .get(old) as { n: number }
    ).n;
    if (otherTurns === 0 && liveRows === 0) {
      // The conversation the recorder started for this call: only its history rows are left.
      const historyRows = `SELECT r.id FROM responses r WHERE r.conversation_id = ? AND ${IS_HISTORY_ROW}`;
      for (const table of ["tool_responses", "tool_calls", "tool_results"])
        db.prepare(`DELETE FROM ${table} WHERE response_id IN (${historyRows})`).run(old);
      db.prepare(`DELETE FROM responses WHERE id IN (${historyRows})`).run(old);
      const historyTurns = `SELECT t.id FROM turns t WHERE t.thread_id = ? AND ${IS_HISTORY_TURN}`;
      db.prepare(`DELETE FROM turn_search WHERE turn_id IN (${historyTurns})`).run(old);
      db.prepare(`DELETE FROM turn_tools WHERE turn_id IN (${historyTurns})`).run(old);
      db.prepare(`DELETE FROM turns WHERE id IN (${historyTurns})`).run(old);
      db.prepare(`DELETE FROM threads WHERE id = ?`).run(old);
      db.prepare(`DELETE FROM conversations WHERE id = ?`).run(old);
    } else if (turn?.tip) {
      // The call joined an existing thread: point it back at the history it had before.
      db.prepare(`UPDATE threads SET tip_message_hash = ? WHERE id = ? AND tip_message_hash = ?`).run(
        historyTip(db, turn.parent),
        old,
        turn.tip,
      );
    }
    return true;
  })();
}

/** The hash of the last message before the trailing user/tool messages that end at `hash`. */
function historyTip(db: Database, hash: string | null): string | null {
  const get = db.prepare(`SELECT parent_hash AS parent, role FROM messages WHERE hash = ?`);
  let current = hash;
  for (let guard = 0; current !== null && guard < 10_000; guard++) {
    const message = get.get(current) as { parent: string | null; role: string } | undefined;
    if (!message || !["user", "tool", "function"].includes(message.role)) return current;
    current = message.parent;
  }
  return current;
}
