/**
 * Two real `llm-relay serve` processes given one PostgreSQL through
 * DATABASE_URL: requests split across them, including turns of one
 * conversation continued on the other instance, are all recorded once,
 * into one conversation; neither process creates a SQLite file.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { killAll, startServe, type ServeProcess } from "../helpers/cli.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { tempDir } from "../helpers/proxy.js";

let schema: TestSchema;
let dir: string;
beforeEach(async () => {
  schema = await createTestSchema();
  dir = tempDir("llm-relay-pg-serve-");
});
afterEach(async () => {
  await killAll();
  await schema.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** POSTs a chat request to the `echo` model and returns the answer text. */
async function ask(
  proxy: ServeProcess,
  messages: { role: string; content: string }[],
  requestId: string,
): Promise<string> {
  const response = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify({ model: "echo", messages }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { choices: { message: { content: string } }[] };
  return body.choices[0]!.message.content;
}

describe("two serve processes on one PostgreSQL", () => {
  it("record every exchange once, and a conversation continued across both stays one", async () => {
    const env = { DATABASE_URL: schema.url };
    const [a, b] = await Promise.all([
      startServe(["--port", "0"], { cwd: path.join(dir), env, timeoutMs: 20_000 }),
      startServe(["--port", "0"], { cwd: path.join(dir), env, timeoutMs: 20_000 }),
    ]);
    // One conversation, its turns alternating between the instances (each turn waits for the previous answer).
    const messages: { role: string; content: string }[] = [{ role: "system", content: "You are a parrot." }];
    for (let turn = 0; turn < 10; turn++) {
      messages.push({ role: "user", content: `turn ${turn}: say something` });
      const answer = await ask(turn % 2 === 0 ? a : b, messages, `conv-${turn}`);
      messages.push({ role: "assistant", content: answer });
    }
    // And 40 independent requests at once, split across both.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ask(i % 2 === 0 ? a : b, [{ role: "user", content: `independent ${i}` }], `solo-${i}`),
      ),
    );

    // A graceful stop drains each recorder.
    a.child.kill("SIGTERM");
    b.child.kill("SIGTERM");
    expect(await a.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    expect(await b.waitForExit(15_000)).toEqual({ code: 0, signal: null });

    const recorded = await schema.rows<{ request_id: string }>(
      "SELECT request_id FROM llm_relay_exchanges ORDER BY request_id",
    );
    expect(recorded).toHaveLength(50);
    expect(new Set(recorded.map((r) => r.request_id)).size).toBe(50);
    const conversationOf = await schema.rows<{ conversation_id: string }>(
      "SELECT DISTINCT r.conversation_id FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id WHERE e.request_id LIKE 'conv-%'",
    );
    expect(conversationOf).toHaveLength(1);
    expect(await schema.count("SELECT * FROM conversations")).toBe(41);
    expect(fs.existsSync(path.join(dir, "xdg-data", "llm-relay", "logs.db"))).toBe(false);
  });
});
