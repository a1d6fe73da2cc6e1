/**
 * Both record stores behind one small interface, for suites that run the
 * same assertions on each: SqliteStore on a temp file, PgStore in a
 * throw-away PostgreSQL schema. The same SQL reads both.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { RecordStore } from "../../src/recording/types.js";
import { createTestSchema } from "../helpers/pg.js";

/** A store under test (opened anew for each `open`, as after a restart) and plain SQL access to what it wrote. */
export interface StoreHarness {
  open(): Promise<RecordStore>;
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  cleanup(): Promise<void>;
}

/** SqliteStore on a new temp file. */
export function sqliteHarness(): Promise<StoreHarness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-relay-faithful-"));
  const file = path.join(dir, "logs.db");
  return Promise.resolve({
    open: () => Promise.resolve(SqliteStore.open(file)),
    rows: <T>(sql: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return Promise.resolve(db.prepare(sql).all() as T[]);
      } finally {
        db.close();
      }
    },
    cleanup: () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true })),
  });
}

/** PgStore in a new schema of the test database. */
export async function pgHarness(): Promise<StoreHarness> {
  const schema = await createTestSchema();
  return {
    open: () => PgStore.open(schema.url),
    rows: (sql) => schema.rows(sql),
    cleanup: () => schema.drop(),
  };
}

/** The two stores, for `describe.each`. */
export const STORE_HARNESSES: [string, () => Promise<StoreHarness>][] = [
  ["SqliteStore", sqliteHarness],
  ["PgStore", pgHarness],
];

/**
 * The system prompts `llm logs -c` prints for one conversation, in order, by
 * the rule of llm's `logs_list` (llm/cli.py, 0.31.1 and 0.32 alike): a row's
 * `system` is printed when it differs from the previous row's, unless it is
 * None. The rows are those each version lists:
 * - `"0.32"`: `merged_log_rows` (llm/logs.py): every turn, whose `system` is
 *   the text of the first message of its chain when that is a system message
 *   (`_LogRowBuilder.build`), plus the `responses` rows whose id is not a
 *   turn (`LEGACY_LOG_ROWS_SQL`), with their `system` column; by id;
 * - `"0.31.1"`: the `responses` rows, by id.
 */
export async function systemsShown(
  h: StoreHarness,
  conversationId: string,
  version: "0.32" | "0.31.1",
): Promise<string[]> {
  const responses = await h.rows<{ id: string; system: string | null }>(
    `SELECT id, system FROM responses WHERE conversation_id = '${conversationId}' ORDER BY id`,
  );
  let rows: { id: string; system: string | null }[];
  if (version === "0.31.1") {
    rows = responses;
  } else {
    const turns = await h.rows<{ id: string; parent_message_hash: string | null }>(
      `SELECT id, parent_message_hash FROM turns WHERE thread_id = '${conversationId}' ORDER BY id`,
    );
    const messages = new Map(
      (
        await h.rows<{ hash: string; parent_hash: string | null; role: string }>(
          "SELECT hash, parent_hash, role FROM messages",
        )
      ).map((m) => [m.hash, m]),
    );
    const parts = await h.rows<{ message_hash: string; type: string; text: string | null }>(
      "SELECT message_hash, type, text FROM parts ORDER BY message_hash, position",
    );
    const firstMessageSystem = (hash: string | null): string | null => {
      let root = hash === null ? undefined : messages.get(hash);
      while (root && root.parent_hash !== null) root = messages.get(root.parent_hash);
      if (!root || root.role !== "system") return null;
      const text = parts
        .filter((p) => p.message_hash === root.hash && p.type === "text")
        .map((p) => p.text ?? "")
        .join("");
      return text === "" ? null : text;
    };
    const turnIds = new Set(turns.map((t) => t.id));
    rows = [
      ...turns.map((t) => ({ id: t.id, system: firstMessageSystem(t.parent_message_hash) })),
      ...responses.filter((r) => !turnIds.has(r.id)),
    ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  const shown: string[] = [];
  let current: string | null = null;
  for (const row of rows) {
    if (row.system !== current) {
      if (row.system !== null) shown.push(row.system);
      current = row.system;
    }
  }
  return shown;
}
