/**
 * `POST /internal/usage` refuses a cost or a token count so large that it
 * would poison every later sum of the tenant's ledger: with `costUsd: 1e308`
 * accepted, the summary added up to `Infinity` and every later
 * `GET /internal/usage` of that tenant answered 500.
 */
import { afterEach, expect, it } from "vitest";
import { errorEnvelopeSchema, usageSummaryEnvelopeSchema } from "../../src/server/envelope-schemas.js";
import { send } from "../helpers/exchanges.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy | null = null;
afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

it("refuses a cost or token count past the per-event bounds, and the tenant's summary still answers", async () => {
  proxy = await startTestProxy();
  const url = `${proxy.url}/internal/usage`;
  for (const [field, value] of [
    ["costUsd", 1e308],
    ["costUsd", 1e7],
    ["inputTokens", 1e15],
    ["tokens", Number.MAX_SAFE_INTEGER],
  ] as const) {
    const refused = await send(url, { body: { model: "m", tenantId: "acme", [field]: value } });
    expect(refused.status, `${field} ${value}`).toBe(400);
    expect(errorEnvelopeSchema.parse(refused.json).error.details).toEqual({
      issues: [expect.objectContaining({ path: field })],
    });
  }
  const fine = await send(url, { body: { model: "m", tenantId: "acme", costUsd: 1e6, inputTokens: 1e12 } });
  expect(fine.status).toBe(201);
  const summary = await send(`${url}?tenant=acme`);
  expect(summary.status).toBe(200);
  expect(usageSummaryEnvelopeSchema.parse(summary.json).data).toEqual([
    expect.objectContaining({ group: "m", events: 1, costUsd: 1e6, inputTokens: 1e12 }),
  ]);
});
