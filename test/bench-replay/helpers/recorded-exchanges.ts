/**
 * Records the bench tests' ten exchanges through the real proxy (to a fake
 * upstream answering known texts): the canonical aider request, a
 * three-turn conversation, a JSON answer, one failure and four short
 * notes, over three model names. Returns what was sent and answered.
 */
import { aiderRequest } from "../../helpers/fixtures.js";
import { chat } from "../../helpers/exchanges.js";
import { rows } from "../../helpers/db.js";
import { startFakeUpstream, type FakeUpstream } from "../../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../../helpers/proxy.js";

/** The original answer to aider's request: one file listing in aider's format. */
export const AIDER_ANSWER = [
  "src/main.py",
  "```",
  "def fibonacci(n):",
  "    a, b = 0, 1",
  "    for _ in range(n):",
  "        a, b = b, a + b",
  "    return a",
  "",
  'if __name__ == "__main__":',
  "    print([fibonacci(i) for i in range(10)])",
  "```",
  "",
].join("\n");

/** One exchange sent through the proxy. */
export interface SentExchange {
  /** The request body as the client sent it. */
  body: { model: string; messages: { role: string; content: string }[]; [key: string]: unknown };
  /** The answer the fake upstream gave (null: it failed). */
  answer: string | null;
  /** `responses.id` of the recorded exchange. */
  id: string;
}

/** The recorded fixture. */
export interface RecordedFixture {
  proxy: TestProxy;
  upstream: FakeUpstream;
  exchanges: SentExchange[];
  /** The exchanges with an answer, i.e. the replayable ones, in order. */
  answered: SentExchange[];
  close(): Promise<void>;
}

/** Waits until the proxy's recorder (a worker thread) has written `n` exchanges. */
async function waitForRecords(proxy: TestProxy, n: number): Promise<void> {
  await proxy.server.ctx.recorder.flush();
  for (let i = 0; i < 200; i++) {
    if ((rows<{ n: number }>(proxy.dbPath, "select count(*) as n from llm_relay_exchanges")[0]?.n ?? 0) >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the proxy did not record ${n} exchanges`);
}

/** Starts a proxy and a fake upstream and records the ten exchanges. */
export async function recordFixture(): Promise<RecordedFixture> {
  const upstream = await startFakeUpstream();
  const deployment = fakeDeployment(upstream.baseUrl);
  const proxy = await startTestProxy({
    models: { TestModelName: deployment, "recorded-model": deployment, "other-model": deployment },
  });
  const plan: { body: SentExchange["body"]; answer: string | null }[] = [];
  plan.push({ body: aiderRequest(), answer: AIDER_ANSWER });
  const france = [
    { role: "system", content: "You are a terse geography tutor." },
    { role: "user", content: "What is the capital of France?" },
  ];
  plan.push({
    body: { model: "recorded-model", temperature: 0.3, messages: france },
    answer: "Paris is the capital of France.",
  });
  const germany = [
    ...france,
    { role: "assistant", content: "Paris is the capital of France." },
    { role: "user", content: "And of Germany?" },
  ];
  plan.push({
    body: { model: "recorded-model", temperature: 0.3, messages: germany },
    answer: "Berlin is the capital of Germany.",
  });
  const italy = [
    ...germany,
    { role: "assistant", content: "Berlin is the capital of Germany." },
    { role: "user", content: "And of Italy?" },
  ];
  plan.push({
    body: { model: "recorded-model", temperature: 0.3, stream: true, messages: italy },
    answer: "Rome is the capital of Italy.",
  });
  plan.push({
    body: {
      model: "other-model",
      stream: true,
      max_tokens: 64,
      messages: [{ role: "user", content: "Return the user record as JSON" }],
    },
    answer: '{"name": "Ada", "age": 36}',
  });
  plan.push({
    body: { model: "other-model", messages: [{ role: "user", content: "This request fails upstream" }] },
    answer: null,
  });
  for (let n = 1; n <= 4; n++) {
    plan.push({
      body: {
        model: "recorded-model",
        stream: true,
        seed: n,
        messages: [{ role: "user", content: `Summarize note ${n}` }],
      },
      answer: `Note ${n} says the build number ${n * 7} is green.`,
    });
  }
  const exchanges: SentExchange[] = [];
  for (const [i, step] of plan.entries()) {
    upstream.behave(
      step.answer === null
        ? { kind: "status", status: 500, body: '{"error":{"code":500,"message":"boom","type":"server_error"}}' }
        : { kind: "ok", text: step.answer, chunkCount: 4 },
    );
    const answer = await chat(proxy, step.body, { "x-request-id": `bench-fixture-${i}` });
    if (step.answer !== null && answer.status !== 200)
      throw new Error(`exchange ${i} failed: ${answer.status} ${answer.text}`);
    await waitForRecords(proxy, i + 1);
    const id = rows<{ response_id: string }>(
      proxy.dbPath,
      "select response_id from llm_relay_exchanges where request_id = ?",
      `bench-fixture-${i}`,
    )[0]!.response_id;
    exchanges.push({ body: step.body, answer: step.answer, id });
  }
  return {
    proxy,
    upstream,
    exchanges,
    answered: exchanges.filter((e) => e.answer !== null),
    async close() {
      await proxy.close();
      await upstream.close();
    },
  };
}
