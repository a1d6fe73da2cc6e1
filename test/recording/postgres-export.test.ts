/**
 * `llm-relay export`: records written into PostgreSQL, exported by the real
 * command line into a SQLite file, read back with the `sqlite3` tool and
 * compared with the PostgreSQL rows; `llm-relay logs --db` lists them.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import type { LogRow } from "../../src/recording/types.js";
import { killAll, runCli } from "../helpers/cli.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { tempDir } from "../helpers/proxy.js";
import { conversationRecords, recordFor } from "../helpers/records.js";

/** Rows of a query run by the `sqlite3` command-line tool (`-json`). */
function sqlite3<T = Record<string, unknown>>(file: string, query: string): T[] {
  const run = spawnSync("sqlite3", ["-json", "-readonly", file, query], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`sqlite3 failed (${run.status}): ${run.stderr}`);
  return run.stdout.trim() === "" ? [] : (JSON.parse(run.stdout) as T[]);
}

let schema: TestSchema;
let dir: string;
beforeEach(async () => {
  schema = await createTestSchema();
  dir = tempDir("llm-relay-export-");
});
afterEach(async () => {
  await killAll();
  await schema.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes a mixed set of exchanges: a 3-exchange aider conversation, a failure with attempts, another conversation. */
async function seed(): Promise<{ ids: string[] }> {
  const store = await PgStore.open(schema.url);
  try {
    const conversation = conversationRecords(3);
    const failed = recordFor(
      { model: "gpt-4o", messages: [{ role: "user", content: "unreachable?" }] },
      {
        responseText: "",
        status: "error",
        httpStatus: 502,
        error: "connect ECONNREFUSED",
        costUsd: null,
        attempts: [
          {
            model: "gpt-4o",
            deployment: "a",
            provider: "openai-compatible",
            upstreamModel: "gpt-4o",
            status: "unreachable",
            httpStatus: null,
            startedMs: 0,
            durationMs: 3,
            error: "connect ECONNREFUSED",
          },
        ],
      },
    );
    const other = recordFor(
      { model: "gpt-4o", messages: [{ role: "user", content: "what is a fibonacci heap" }] },
      { responseText: "A heap of trees.", costUsd: 0.00042 },
    );
    await store.writeBatch(conversation);
    await store.writeBatch([failed, other]);
    return { ids: [...conversation, failed, other].map((r) => r.id) };
  } finally {
    await store.close();
  }
}

const TABLES = [
  "conversations",
  "responses",
  "threads",
  "turns",
  "messages",
  "parts",
  "turn_search",
  "llm_relay_exchanges",
  "llm_relay_attempts",
];

describe("llm-relay export", () => {
  it("writes an llm-compatible SQLite file whose rows match PostgreSQL's", async () => {
    const { ids } = await seed();
    const file = path.join(dir, "out", "logs.db");
    const result = await runCli(["export", "--to", file, "--database-url", schema.url], {
      cwd: dir,
      timeoutMs: 30_000,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^exported 10 responses to /); // 5 history rows of the aider request + 5 exchanges

    for (const table of TABLES) {
      const [row] = sqlite3<{ n: number }>(file, `SELECT count(*) AS n FROM ${table}`);
      expect(row!.n, table).toBe(await schema.count(`SELECT * FROM ${table}`));
    }
    const columns = `id, model, prompt, system, response, conversation_id, duration_ms, datetime_utc, input_tokens, output_tokens, resolved_model`;
    expect(sqlite3(file, `SELECT ${columns} FROM responses ORDER BY id`)).toEqual(
      await schema.rows(`SELECT ${columns} FROM responses ORDER BY id`),
    );
    expect(sqlite3(file, "SELECT * FROM llm_relay_exchanges ORDER BY response_id")).toEqual(
      await schema.rows("SELECT * FROM llm_relay_exchanges ORDER BY response_id"),
    );
    expect(sqlite3(file, "SELECT * FROM llm_relay_attempts")).toEqual(
      await schema.rows("SELECT * FROM llm_relay_attempts"),
    );
    expect(sqlite3(file, "SELECT hash, parent_hash, role FROM messages ORDER BY hash")).toEqual(
      await schema.rows("SELECT hash, parent_hash, role FROM messages ORDER BY hash"),
    );
    const pgParts = (await schema.rows<Record<string, unknown>>("SELECT * FROM parts ORDER BY id")).map((p) => ({
      ...p,
      id: Number(p.id),
    }));
    expect(sqlite3(file, "SELECT * FROM parts ORDER BY id")).toEqual(pgParts);
    expect(sqlite3(file, "SELECT * FROM turns ORDER BY id")).toEqual(
      await schema.rows("SELECT * FROM turns ORDER BY id"),
    );
    expect(sqlite3(file, "SELECT * FROM threads ORDER BY id")).toEqual(
      await schema.rows("SELECT * FROM threads ORDER BY id"),
    );
    const live = sqlite3<{ id: string }>(
      file,
      "SELECT r.id FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id ORDER BY r.id",
    );
    expect(live.map((r) => r.id)).toEqual(ids);

    // What llm itself needs: its 30 migrations (so it migrates nothing) and the full-text indexes filled by its triggers.
    expect(sqlite3<{ n: number }>(file, "SELECT count(*) AS n FROM _llm_migrations")[0]!.n).toBe(30);
    expect(
      sqlite3<{ id: string }>(
        file,
        "SELECT r.id FROM responses_fts JOIN responses r ON r.rowid = responses_fts.rowid WHERE responses_fts MATCH 'fibonacci' ORDER BY r.id",
      ).length,
    ).toBe(
      await schema.count(
        "SELECT * FROM responses WHERE to_tsvector('simple', coalesce(prompt, '') || ' ' || coalesce(response, '')) @@ to_tsquery('simple', 'fibonacci')",
      ),
    );
    expect(
      sqlite3<{ n: number }>(file, "SELECT count(*) AS n FROM turn_search_fts WHERE turn_search_fts MATCH 'heap'")[0]!
        .n,
    ).toBe(1);
    expect(sqlite3<{ n: number }>(file, "SELECT count(*) AS n FROM message_tree")[0]!.n).toBe(
      await schema.count("SELECT * FROM messages"),
    );

    // `llm-relay logs` reads the export as it reads the proxy's own file, with the same rows PgStore lists.
    const logs = await runCli(["logs", "--db", file, "--json", "-n", "0"], { cwd: dir });
    expect(logs.code).toBe(0);
    const listed = JSON.parse(logs.stdout) as LogRow[];
    const store = await PgStore.open(schema.url);
    try {
      expect(listed).toEqual(await store.listResponses({ limit: 100 }));
    } finally {
      await store.close();
    }
    expect(listed.find((r) => r.status === "error")).toMatchObject({ httpStatus: 502, error: "connect ECONNREFUSED" });

    // With database_url and no --db, `llm-relay logs` reads PostgreSQL itself: the same rows.
    const direct = await runCli(["logs", "--json", "-n", "0"], {
      cwd: dir,
      env: { LLM_RELAY_DATABASE_URL: schema.url },
    });
    expect(direct.stderr).toBe("");
    expect(JSON.parse(direct.stdout)).toEqual(listed);
  });

  it("with --since, exports only the later exchanges and the conversations and messages they need", async () => {
    const store = await PgStore.open(schema.url);
    const early = recordFor(
      { model: "gpt-4o", messages: [{ role: "user", content: "early question" }] },
      { responseText: "early answer" },
    );
    const conversation = conversationRecords(2);
    await store.writeBatch([early, ...conversation]);
    await store.close();
    const since = new Date(conversation[1]!.startedAt).toISOString();
    const file = path.join(dir, "since.db");
    const result = await runCli(["export", "--to", file, "--since", since], {
      cwd: dir,
      env: { DATABASE_URL: schema.url },
      timeoutMs: 30_000,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(sqlite3<{ id: string }>(file, "SELECT id FROM responses ORDER BY id").map((r) => r.id)).toEqual([
      conversation[1]!.id,
    ]);
    expect(sqlite3<{ id: string }>(file, "SELECT id FROM turns").map((r) => r.id)).toEqual([conversation[1]!.id]);
    const [conv] = sqlite3<{ id: string; name: string }>(file, "SELECT id, name FROM conversations");
    expect(conv!.name).toBe("Change the greeting to be more …");
    expect(sqlite3<{ id: string }>(file, "SELECT id FROM threads").map((r) => r.id)).toEqual([conv!.id]);
    // The turn's whole chain is there (15 messages: the aider request, its answer, the new question, the reply), and nothing else.
    expect(sqlite3<{ n: number }>(file, "SELECT count(*) AS n FROM messages")[0]!.n).toBe(15);
    expect(
      sqlite3<{ n: number }>(
        file,
        "SELECT count(*) AS n FROM messages m WHERE parent_hash IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages p WHERE p.hash = m.parent_hash)",
      )[0]!.n,
    ).toBe(0);
    expect(sqlite3<{ n: number }>(file, "SELECT count(*) AS n FROM parts WHERE text = 'early question'")[0]!.n).toBe(0);
  });

  it("refuses to overwrite a file, and fails clearly without a database URL", async () => {
    const file = path.join(dir, "existing.db");
    fs.writeFileSync(file, "not mine");
    const refused = await runCli(["export", "--to", file, "--database-url", schema.url], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/existing\.db exists/);
    expect(fs.readFileSync(file, "utf8")).toBe("not mine");
    const noUrl = await runCli(["export", "--to", path.join(dir, "x.db")], { cwd: dir });
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toMatch(/give --database-url/);
    expect(fs.existsSync(path.join(dir, "x.db"))).toBe(false);
    await seed();
    const forced = await runCli(["export", "--to", file, "--database-url", schema.url, "--force"], {
      cwd: dir,
      timeoutMs: 30_000,
    });
    expect(forced.code).toBe(0);
    expect(sqlite3<{ n: number }>(file, "SELECT count(*) AS n FROM llm_relay_exchanges")[0]!.n).toBe(5);
  });
});
