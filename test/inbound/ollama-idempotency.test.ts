/**
 * An Ollama NDJSON stream sent with `Idempotency-Key` is replayed as it was
 * sent: the same lines under Ollama's `application/x-ndjson`, not SSE's
 * content type (the `ollama` client reads either, but a proxy or a browser in
 * front may not), and the replay makes no second exchange.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLAY_HEADER } from "../../src/server/idempotency.js";
import { rows } from "../helpers/db.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy;

beforeAll(async () => {
  proxy = await startTestProxy();
});
afterAll(async () => {
  await proxy.close();
});

describe("Ollama streams and Idempotency-Key", () => {
  it("the replay of an NDJSON stream keeps application/x-ndjson and the same lines", async () => {
    const send = () =>
      fetch(`${proxy.url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": "ollama-ndjson-1" },
        body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "Replay me" }] }),
      });
    const first = await send();
    const firstText = await first.text();
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const lines = firstText.trim().split("\n");
    expect((JSON.parse(lines.at(-1)!) as { done: boolean }).done).toBe(true);

    const second = await send();
    expect(second.status).toBe(200);
    expect(second.headers.get(REPLAY_HEADER)).toBe("true");
    expect(second.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(await second.text()).toBe(firstText);

    await proxy.server.ctx.recorder.flush();
    const recorded = rows(proxy.dbPath, "SELECT protocol FROM llm_relay_exchanges WHERE protocol = 'ollama'");
    expect(recorded).toHaveLength(1);
  });
});
