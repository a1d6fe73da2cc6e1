/**
 * `Idempotency-Key` across instances (issue 7, item 9): two proxies on one
 * PostgreSQL database receive the same key at the same moment. Exactly one
 * of them calls the upstream; the other answers 409
 * `idempotency_in_progress` (or, if the first had already answered, the
 * replay). Afterwards both replay the same answer, and the database holds
 * one exchange and one ledger row per key.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { readSse } from "../helpers/sse.js";

const REPLAY = "x-llm-relay-idempotent-replay";
const messages = [{ role: "user", content: "Once upon a time" }];

let schema: TestSchema;
let fake: FakeUpstream;
let proxies: TestProxy[];

beforeEach(async () => {
  schema = await createTestSchema();
  // Each answer waits a little before its headers, so that the two copies of a request overlap.
  fake = await startFakeUpstream({ kind: "ok", headerDelayMs: 150 });
  const config = { databaseUrl: schema.url, models: { local: fakeDeployment(fake.baseUrl, { model: "stories260K" }) } };
  proxies = [await startTestProxy(config), await startTestProxy(config)];
});
afterEach(async () => {
  for (const proxy of proxies) await proxy.close();
  await fake.close();
  await schema.drop();
});

/** What a client saw: status, the replay header, and the body (SSE `data:` payloads joined by newlines for streams). */
interface Seen {
  status: number;
  replay: boolean;
  code: string | null;
  body: string;
}

async function send(proxy: TestProxy, key: string, stream: boolean): Promise<Seen> {
  const response = await fetch(`${proxy.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": key },
    body: JSON.stringify({ model: "local", messages, stream }),
  });
  const replay = response.headers.get(REPLAY) === "true";
  if (response.status === 200 && stream)
    return { status: 200, replay, code: null, body: (await readSse(response)).join("\n") };
  const body = await response.text();
  const code = response.status === 200 ? null : ((JSON.parse(body) as { error: { code: string } }).error.code ?? null);
  return { status: response.status, replay, code, body };
}

describe("one Idempotency-Key sent to two proxies on one PostgreSQL at once", () => {
  it("makes one upstream call per key; the other instance answers 409 or the replay; one exchange and one ledger row per key", async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `two-instances-${i}-${schema.name}`);
    const streamed = (i: number) => i % 2 === 1;
    const firsts = await Promise.all(
      keys.map((key, i) => Promise.all(proxies.map((proxy) => send(proxy, key, streamed(i))))),
    );

    expect(fake.requests).toHaveLength(keys.length);
    for (const pair of firsts) {
      const ran = pair.filter((seen) => seen.status === 200 && !seen.replay);
      const other = pair.filter((seen) => !(seen.status === 200 && !seen.replay));
      expect(ran).toHaveLength(1);
      expect(other).toHaveLength(1);
      // 409 while the first runs (Retry-After: 1), or the replay when it had already answered.
      if (other[0]!.status === 409) expect(other[0]!.code).toBe("idempotency_in_progress");
      else expect(other[0]).toEqual({ ...ran[0]!, replay: true });
    }

    // Retries on either instance now replay the one answer.
    for (const [i, key] of keys.entries()) {
      const answer = firsts[i]!.find((seen) => !seen.replay && seen.status === 200)!;
      for (const proxy of proxies) expect(await send(proxy, key, streamed(i))).toEqual({ ...answer, replay: true });
    }
    expect(fake.requests).toHaveLength(keys.length);

    for (const proxy of proxies) await proxy.close(); // drains the recorders and the ledger bookings
    expect(await schema.count("SELECT * FROM responses")).toBe(keys.length);
    expect(await schema.rows("SELECT state, count(*)::int AS n FROM llm_relay_idempotency GROUP BY state")).toEqual([
      { state: "done", n: keys.length },
    ]);
    const ledger = await schema.rows<{ idempotency_key: string }>(
      "SELECT idempotency_key FROM llm_relay_usage ORDER BY idempotency_key",
    );
    expect(ledger.map((row) => row.idempotency_key)).toEqual(keys.map((key) => `idempotency:default:${key}`).sort());
  });
});
