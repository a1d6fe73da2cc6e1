/**
 * Moving a bench call's record into the run's conversation: a replay that
 * started its own conversation leaves nothing behind (history rows, thread,
 * conversation), and a replay that joined one of the user's threads gives
 * that thread its tip back.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { createClient } from "../../src/index.js";
import { BenchStore } from "../../src/bench/storage/bench-store.js";
import { newBenchConversation } from "../../src/bench/storage/rehome.js";
import { rows } from "../helpers/db.js";
import { tempDir } from "../helpers/proxy.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = tempDir("llm-relay-rehome-");
  dirs.push(dir);
  const dbPath = path.join(dir, "logs.db");
  const client = createClient({ config: { ...loadConfig({ cwd: dir, env: {}, db: dbPath }) } });
  return { dbPath, client };
}

const snapshot = (dbPath: string) => ({
  conversations: rows<{ id: string; name: string }>(dbPath, "select id, name from conversations order by id"),
  threads: rows<{ id: string; tip: string | null }>(
    dbPath,
    "select id, tip_message_hash as tip from threads order by id",
  ),
  responses: rows<{ id: string; conversation_id: string }>(
    dbPath,
    "select id, conversation_id from responses order by id",
  ),
});

describe("rehomeExchange", () => {
  it("moves a replay that started a conversation, and removes what the recorder made for it", async () => {
    const { dbPath, client } = setup();
    const user = await client.generateCompletionWithMessages([{ role: "user", content: "a user's own question" }], {
      model: "echo",
    });
    expect(user.success).toBe(true);
    const before = snapshot(dbPath);
    // a replay of a request first seen mid-conversation: the recorder writes a new conversation with a history row
    const replay = await client.generateCompletionWithMessages(
      [
        { role: "user", content: "earlier" },
        { role: "assistant", content: "earlier answer" },
        { role: "user", content: "replayed" },
      ],
      { model: "echo" },
    );
    expect(snapshot(dbPath).responses).toHaveLength(before.responses.length + 2);
    const store = BenchStore.open(dbPath);
    try {
      const target = newBenchConversation("01runid", "echo", "echo");
      expect(store.rehome(replay.id, target)).toBe(true);
      const after = snapshot(dbPath);
      expect(after.conversations).toEqual(
        [...before.conversations, { id: target.id, name: "bench 01runid echo" }].sort((a, b) =>
          a.id.localeCompare(b.id),
        ),
      );
      expect(after.threads).toEqual(
        [...before.threads, { id: target.id, tip: null }].sort((a, b) => a.id.localeCompare(b.id)),
      );
      expect(after.responses).toEqual([...before.responses, { id: replay.id, conversation_id: target.id }]);
      expect(rows(dbPath, "select thread_id from turns where id = ?", replay.id)).toEqual([{ thread_id: target.id }]);
      // the history row's turn went with its row
      expect(rows(dbPath, "select id from turns order by id")).toEqual(after.responses.map((r) => ({ id: r.id })));
      expect(store.rehome("no-such-id", target)).toBe(false);
    } finally {
      store.close();
      await client.close();
    }
  });

  it("gives a joined thread its tip back", async () => {
    const { dbPath, client } = setup();
    const first = await client.generateCompletionWithMessages([{ role: "user", content: "hello" }], { model: "echo" });
    const before = snapshot(dbPath);
    expect(before.threads).toHaveLength(1);
    // the replayed history ends at this thread's tip: the recorder joins the user's thread
    const replay = await client.generateCompletionWithMessages(
      [
        { role: "user", content: "hello" },
        { role: "assistant", content: first.content },
        { role: "user", content: "replayed" },
      ],
      { model: "echo" },
    );
    const joined = snapshot(dbPath);
    expect(joined.responses.find((r) => r.id === replay.id)!.conversation_id).toBe(before.threads[0]!.id);
    expect(joined.threads[0]!.tip).not.toBe(before.threads[0]!.tip);
    const store = BenchStore.open(dbPath);
    try {
      const target = newBenchConversation("01runid", "echo", "echo");
      store.rehome(replay.id, target);
      const after = snapshot(dbPath);
      expect(after.threads.find((t) => t.id === before.threads[0]!.id)!.tip).toBe(before.threads[0]!.tip);
      expect(after.responses).toEqual([...before.responses, { id: replay.id, conversation_id: target.id }]);
      // the user's next turn continues their own thread, not the bench's
      const next = await client.generateCompletionWithMessages(
        [
          { role: "user", content: "hello" },
          { role: "assistant", content: first.content },
          { role: "user", content: "the user's real follow-up" },
        ],
        { model: "echo" },
      );
      expect(rows(dbPath, "select conversation_id from responses where id = ?", next.id)).toEqual([
        { conversation_id: before.threads[0]!.id },
      ]);
    } finally {
      store.close();
      await client.close();
    }
  });
});
