/**
 * Huge inputs no longer stall the proxy (issue 16, failure 3): a prompt of
 * 400 KB of one letter through `echo` (which counts usage on the event loop)
 * or on a key with `tpm` (admission estimates the prompt on the event loop)
 * is answered, and `/health` is answered alongside it; a streamed answer of a
 * 250 K-character and a 3 M-character letter run without usage is recorded by
 * the worker (its usage estimated), so the recorder drains. Before, the
 * counts were quadratic in the run: 200 KB blocked the event loop 21 s, the
 * worker never finished the 30 MB one.
 */
import { afterEach, describe, expect, it } from "vitest";
import { COUNT_LIMIT_CHARS } from "../../src/tokens/count.js";
import { chat, send } from "../helpers/exchanges.js";
import { rows } from "../helpers/db.js";
import { chunk, startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";

interface UsageRow {
  input_tokens: number | null;
  output_tokens: number | null;
  usage_estimated: number;
  status: string;
  response_len: number;
}

async function recordedUsage(proxy: TestProxy, requestId: string): Promise<UsageRow[]> {
  await proxy.server.ctx.recorder.flush();
  return rows<UsageRow>(
    proxy.dbPath,
    `SELECT r.input_tokens, r.output_tokens, e.usage_estimated, e.status, length(r.response) AS response_len
       FROM llm_relay_exchanges e JOIN responses r ON r.id = e.response_id WHERE e.request_id = ?`,
    requestId,
  );
}

let proxy: TestProxy | null = null;
let fake: FakeUpstream | null = null;
afterEach(async () => {
  await proxy?.close();
  await fake?.close();
  proxy = fake = null;
});

const LETTERS = 400_000;
const hugePrompt = (model: string) => ({ model, messages: [{ role: "user", content: "a".repeat(LETTERS) }] });

describe("a 400 KB one-letter prompt", () => {
  it("through echo is answered, /health answers alongside it, and the usage is recorded as estimated", async () => {
    proxy = await startTestProxy();
    const [answer, health] = await Promise.all([
      chat(proxy, hugePrompt("echo"), { "x-request-id": "huge-echo" }),
      send(`${proxy.url}/health`),
    ]);
    expect(answer.status).toBe(200);
    expect(health.status).toBe(200);
    const usage = (answer.json as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    // Past the event loop's counting limit, each figure is its UTF-8 size at 4 bytes a token.
    expect(usage.completion_tokens).toBe(LETTERS / 4);
    expect(usage.prompt_tokens).toBeGreaterThanOrEqual(LETTERS / 4);
    expect(await recordedUsage(proxy, "huge-echo")).toEqual([
      {
        input_tokens: usage.prompt_tokens,
        output_tokens: usage.completion_tokens,
        usage_estimated: 1,
        status: "ok",
        response_len: LETTERS,
      },
    ]);
  });

  it("on a key with tpm is admitted on an estimate from its size, and /health answers alongside it", async () => {
    proxy = await startTestProxy();
    const key = await proxy.server.ctx.tenancy.keys.create({ tenant: "acme", tpm: 10_000_000 });
    const headers = { authorization: `Bearer ${key.plaintext}`, "x-request-id": "huge-tpm" };
    const [answer, health] = await Promise.all([chat(proxy, hugePrompt("echo"), headers), send(`${proxy.url}/health`)]);
    expect(answer.status).toBe(200);
    expect(health.status).toBe(200);
    const remaining = Number(answer.headers.get("x-ratelimit-remaining-tokens"));
    // The reservation is the prompt's size estimate (100,000 tokens for 400 KB) plus the chat overhead.
    expect(10_000_000 - remaining).toBeGreaterThanOrEqual(LETTERS / 4);
    expect(10_000_000 - remaining).toBeLessThan(LETTERS / 4 + 100);
  });
});

describe("a streamed letter run without usage", () => {
  /** An SSE answer of one content chunk of `letters` letters and a finish chunk, with no usage anywhere. */
  function letterRunStream(letters: number): string {
    const events = [
      chunk("chatcmpl-run", "up", { role: "assistant", content: "x".repeat(letters) }, null),
      chunk("chatcmpl-run", "up", {}, "stop"),
    ];
    return `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("")}data: [DONE]\n\n`;
  }

  for (const letters of [250_000, 3_000_000]) {
    it(`of ${letters.toLocaleString("en")} letters is recorded by the worker with an estimated usage close to the run's count`, async () => {
      fake = await startFakeUpstream({
        kind: "status",
        status: 200,
        body: letterRunStream(letters),
        headers: { "content-type": "text/event-stream" },
      });
      proxy = await startTestProxy({ models: { up: fakeDeployment(fake.baseUrl) }, defaultModel: null });
      const answer = await chat(
        proxy,
        { model: "up", stream: true, messages: [{ role: "user", content: "Repeat x" }] },
        { "x-request-id": `run-${letters}` },
      );
      expect(answer.status).toBe(200);
      const [row] = await recordedUsage(proxy, `run-${letters}`);
      expect(row).toMatchObject({ status: "ok", usage_estimated: 1, response_len: letters });
      // A run of one letter is 8 letters a token (counted in slices up to COUNT_LIMIT_CHARS, by size past it: 4 bytes a token).
      const expected = letters <= COUNT_LIMIT_CHARS ? letters / 8 : letters / 4;
      expect(Math.abs(row!.output_tokens! - expected) / expected).toBeLessThan(0.01);
    });
  }
});
