/**
 * `llm-relay ui --db FILE`, the real command in a child process (tsx), on a logs.db recorded by the
 * real proxy: it prints its URL, answers `/ui/api/conversations` with what was recorded and the page
 * at `/ui/`, has no Live stream (it proxies nothing), refuses a non-loopback host without a master
 * key, and stops with exit code 0 on SIGTERM.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ConversationSummary, Page } from "../../src/browse/types.js";
import type { UiInfo } from "../../src/server/ui/api-types.js";
import { killAll, outputOf, spawnCli } from "../helpers/cli.js";
import { send } from "../helpers/exchanges.js";
import { createTestSchema } from "../helpers/pg.js";
import { startTestProxy, tempDir } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

afterEach(async () => {
  await killAll();
});

/** A logs.db with one conversation, recorded through the real proxy (closed: its records written). */
async function recordedFile(): Promise<string> {
  const dbPath = path.join(tempDir("llm-relay-ui-cli-"), "logs.db");
  const proxy = await startTestProxy({ dbPath });
  try {
    const answer = await send(`${proxy.baseURL}/chat/completions`, {
      body: { model: "cli-model", messages: [{ role: "user", content: "Recorded for the ui command" }] },
    });
    expect(answer.status).toBe(200);
  } finally {
    await proxy.close();
  }
  return dbPath;
}

describe("llm-relay ui", () => {
  it("serves a recorded file's conversations at the URL it prints, and stops on SIGTERM", async () => {
    const dbPath = await recordedFile();
    const dir = path.dirname(dbPath);
    const proc = spawnCli(["ui", "--db", dbPath, "--port", "0"], { cwd: dir });
    const urlPattern = /at (http:\/\/127\.0\.0\.1:\d+)\/ui\//;
    await until(
      () => `the URL on stdout\n${outputOf(proc)}`,
      () => urlPattern.test(proc.stdout()) || !proc.alive(),
    );
    const base = urlPattern.exec(proc.stdout())?.[1];
    expect(base, outputOf(proc)).toBeDefined();
    expect(proc.stdout()).toContain(dbPath);

    const list = await send(`${base}/ui/api/conversations`);
    expect(list.status).toBe(200);
    const page = (list.json as { data: Page<ConversationSummary> }).data;
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ model: "cli-model", turns: 1, lastStatus: "ok" });
    const info = (await send(`${base}/ui/api/info`)).json as { data: UiInfo };
    expect(info.data).toMatchObject({ live: false, auth: false, store: { engine: "sqlite", path: dbPath } });
    const live = await send(`${base}/ui/api/live`);
    expect(live.status).toBe(404);
    expect(live.json).toMatchObject({ success: false, error: { code: "not_found" } });
    const html = await send(`${base}/ui/`);
    expect(html.status).toBe(200);
    expect(html.headers.get("content-security-policy")).toContain("script-src 'self'");
    // No proxy here.
    expect((await send(`${base}/v1/models`)).status).toBe(404);

    proc.child.kill("SIGTERM");
    expect(await proc.waitForExit(10_000)).toEqual({ code: 0, signal: null });
  });

  it("serves a PostgreSQL store's conversations with --database-url", async () => {
    const schema = await createTestSchema();
    try {
      const proxy = await startTestProxy({ databaseUrl: schema.url });
      try {
        const answer = await send(`${proxy.baseURL}/chat/completions`, {
          body: { model: "pg-model", messages: [{ role: "user", content: "Recorded in PostgreSQL" }] },
        });
        expect(answer.status).toBe(200);
      } finally {
        await proxy.close();
      }
      const proc = spawnCli(["ui", "--database-url", schema.url, "--port", "0"], { cwd: tempDir() });
      const urlPattern = /at (http:\/\/127\.0\.0\.1:\d+)\/ui\//;
      await until(
        () => `the URL on stdout\n${outputOf(proc)}`,
        () => urlPattern.test(proc.stdout()) || !proc.alive(),
      );
      const base = urlPattern.exec(proc.stdout())?.[1];
      expect(base, outputOf(proc)).toBeDefined();
      expect(proc.stdout()).toContain("browsing PostgreSQL");
      const list = (await send(`${base}/ui/api/conversations`)).json as { data: Page<ConversationSummary> };
      expect(list.data.items.map((c) => c.model)).toEqual(["pg-model"]);
      const info = (await send(`${base}/ui/api/info`)).json as { data: UiInfo };
      expect(info.data.store).toEqual({ engine: "postgresql", path: null });
      expect((await send(`${base}/ui/api/bench/runs`)).json).toMatchObject({ data: [] });
      proc.child.kill("SIGTERM");
      expect(await proc.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    } finally {
      await schema.drop();
    }
  });

  it("refuses a non-loopback host without LLM_RELAY_MASTER_KEY", async () => {
    const dbPath = await recordedFile();
    const proc = spawnCli(["ui", "--db", dbPath, "--host", "0.0.0.0", "--port", "0"], { cwd: path.dirname(dbPath) });
    expect(await proc.waitForExit(15_000)).toEqual({ code: 1, signal: null });
    expect(proc.stderr()).toContain("LLM_RELAY_MASTER_KEY");
    expect(proc.stderr()).toContain("refusing to serve the conversation browser on 0.0.0.0");
  });
});
