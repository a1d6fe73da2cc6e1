/**
 * Reads the tables of llm's logs.db that the golden comparison covers, in a
 * normalized form that does not depend on who wrote the file (llm itself or
 * llm-relay) or when: used on the proxy's file and, once real
 * `llm-0.32.logs.db` / `llm-0.31.1.logs.db` files are added to
 * shared/fixtures/llm-native/, on those. test/fixtures/llm-golden/derive.py
 * writes its expected rows in the same form.
 *
 * Normalization:
 * - exchange ids (`responses.id` ∪ `turns.id`, sorted) become `@1`, `@2`, …
 *   and conversation ids (`conversations.id` ∪ `threads.id`, sorted)
 *   `@conversation1`, …, wherever they appear (`conversation_id`,
 *   `thread_id`, `turn_id`, `response_id`, `forked_from`);
 * - `tools.id` becomes `tool#1`, … in id order (also in `tool_id`);
 * - the generated integer ids of `parts`, `turn_search`, `tool_calls` and
 *   `tool_results` are left out;
 * - message hashes, texts and JSON columns are kept as written.
 */
import Database from "better-sqlite3";

/** Rows of each table, normalized. */
export type LlmTables = Record<string, Record<string, unknown>[]>;

/** Each table read, with its order and the generated id column left out (if any). */
const TABLES: readonly { table: string; order: string; dropId?: boolean }[] = [
  { table: "conversations", order: "id" },
  { table: "responses", order: "id" },
  { table: "threads", order: "id" },
  { table: "turns", order: "id" },
  { table: "messages", order: "hash" },
  { table: "parts", order: "message_hash, position", dropId: true },
  { table: "turn_search", order: "turn_id", dropId: true },
  { table: "tools", order: "id" },
  { table: "turn_tools", order: "turn_id, tool_id" },
  { table: "tool_responses", order: "response_id, tool_id" },
  { table: "tool_calls", order: "id", dropId: true },
  { table: "tool_results", order: "id", dropId: true },
];

/** Columns holding an exchange id, a conversation id, a tool id. */
const EXCHANGE_REFS = new Set(["turn_id", "response_id"]);
const CONVERSATION_REFS = new Set(["conversation_id", "thread_id", "forked_from"]);

/** An id column's value as a map key: SQLite ids are integers or text. */
function idKey(value: unknown): string {
  return typeof value === "number" || typeof value === "bigint"
    ? String(value)
    : typeof value === "string"
      ? value
      : JSON.stringify(value);
}

/**
 * The covered tables of the logs.db at `dbPath` (opened read-only), normalized
 * (see the module comment). A table the file lacks is read as empty.
 * @throws when the file cannot be opened as SQLite
 */
export function readLlmTables(dbPath: string): LlmTables {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const has = (table: string) =>
      db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table) !== undefined;
    const raw: LlmTables = {};
    for (const { table, order } of TABLES)
      raw[table] = has(table)
        ? (db.prepare(`SELECT * FROM "${table}" ORDER BY ${order}`).all() as Record<string, unknown>[])
        : [];
    const refs = (ids: unknown[], prefix: string) =>
      new Map([...new Set(ids.map(idKey))].sort().map((id, i) => [id, `${prefix}${i + 1}`]));
    const exchanges = refs(
      [...raw.responses!, ...raw.turns!].map((r) => r.id),
      "@",
    );
    const conversations = refs(
      [...raw.conversations!, ...raw.threads!].map((r) => r.id),
      "@conversation",
    );
    const tools = new Map(raw.tools!.map((t, i) => [idKey(t.id), `tool#${i + 1}`]));
    const out: LlmTables = {};
    for (const { table, dropId } of TABLES) {
      const isExchange = table === "responses" || table === "turns";
      const isConversation = table === "conversations" || table === "threads";
      out[table] = raw[table]!.map((row) => {
        const mapped: Record<string, unknown> = {};
        for (const [column, value] of Object.entries(row)) {
          if (column === "id" && dropId) continue;
          const ref =
            value === null
              ? undefined
              : column === "id"
                ? isExchange
                  ? exchanges.get(idKey(value))
                  : isConversation
                    ? conversations.get(idKey(value))
                    : table === "tools"
                      ? tools.get(idKey(value))
                      : undefined
                : EXCHANGE_REFS.has(column)
                  ? exchanges.get(idKey(value))
                  : CONVERSATION_REFS.has(column)
                    ? conversations.get(idKey(value))
                    : column === "tool_id"
                      ? tools.get(idKey(value))
                      : undefined;
          mapped[column] = ref ?? value;
        }
        return mapped;
      });
    }
    return out;
  } finally {
    db.close();
  }
}

/** What a column that legitimately differs between llm's file and the proxy's is compared as. */
export const DIFFERS = "<differs>";

/**
 * `tables` restricted to the tables of `expected`, with each column named in
 * `differing` (`table.column`) replaced by {@link DIFFERS}: the form to compare
 * with `expected`.
 */
export function comparable(
  tables: LlmTables,
  expected: LlmTables,
  differing: Readonly<Record<string, string>>,
): LlmTables {
  const out: LlmTables = {};
  for (const table of Object.keys(expected)) {
    out[table] = (tables[table] ?? []).map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([column, value]) => [column, `${table}.${column}` in differing ? DIFFERS : value]),
      ),
    );
  }
  return out;
}
