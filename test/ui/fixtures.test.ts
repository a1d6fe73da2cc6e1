/**
 * The conversation browser's fixture set (test/helpers/ui-fixtures.ts) is recorded through the real proxy as
 * the page tests expect it: the aider conversation and the tool loop each threaded into one conversation of
 * two turns, the reasoning kept, the upstream error retried (two attempts), the aborted stream cancelled, two
 * tenants, the images and the XSS text in the record as sent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import {
  DATA_IMAGE,
  FIXTURE_MODELS,
  FIXTURE_TEXT,
  recordUiFixtures,
  startUiFixtureProxy,
  type UiFixtureProxy,
  XSS_ANSWER,
} from "../helpers/ui-fixtures.js";

let f: UiFixtureProxy;
beforeAll(async () => {
  f = await startUiFixtureProxy();
  await recordUiFixtures(f);
});
afterAll(async () => {
  await f?.close();
});

interface Row {
  model: string;
  conversation_id: string;
  prompt: string | null;
  response: string | null;
  status: string;
  http_status: number;
  tenant_id: string;
  attempts: number;
}

describe("the UI fixture set, recorded through the proxy into SQLite", () => {
  it("holds every case the pages show", () => {
    const recorded = rows<Row>(
      f.proxy.dbPath,
      `SELECT r.model, r.conversation_id, r.prompt, r.response, e.status, e.http_status, e.tenant_id,
              (SELECT count(*) FROM llm_relay_attempts a WHERE a.response_id = r.id) AS attempts
         FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id ORDER BY r.id`,
    );
    const of = (model: string) => recorded.filter((row) => row.model === model);
    const aider = of("TestModelName");
    expect(aider).toHaveLength(2);
    expect(new Set(aider.map((row) => row.conversation_id)).size).toBe(1);
    expect(aider[0]!.prompt).toContain(FIXTURE_TEXT.aiderWord);
    const tool = of(FIXTURE_MODELS.tool);
    expect(tool).toHaveLength(2);
    expect(new Set(tool.map((row) => row.conversation_id)).size).toBe(1);
    expect(tool[1]!.response).toBe(FIXTURE_TEXT.toolAnswer);
    expect(of(FIXTURE_MODELS.think)[0]!.response).toBe(FIXTURE_TEXT.reasoningAnswer);
    expect(of(FIXTURE_MODELS.broken)[0]).toMatchObject({ status: "error", http_status: 500, attempts: 2 });
    expect(of(FIXTURE_MODELS.slow)[0]).toMatchObject({ status: "cancelled" });
    expect(of(FIXTURE_MODELS.xss)[0]!.response).toBe(XSS_ANSWER);
    expect(new Set(recorded.map((row) => row.tenant_id))).toEqual(new Set(["acme", "globex"]));
    const [image] = rows<{ prompt_json: string }>(
      f.proxy.dbPath,
      "SELECT prompt_json FROM responses WHERE prompt = ?",
      FIXTURE_TEXT.imagePrompt,
    );
    expect(image?.prompt_json).toContain(DATA_IMAGE);
  });
});
