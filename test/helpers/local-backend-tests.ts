/**
 * Helpers for the tests of the local-backend providers (ollama, vllm,
 * lmstudio): a deployment of a given kind, the recorded exchange of a
 * request (responses + llm_relay_exchanges), and a raw SSE call.
 */
import { expect } from "vitest";
import type { Deployment, ProviderKind } from "../../src/config/schema.js";
import { rows } from "./db.js";
import { fakeDeployment, type TestProxy } from "./proxy.js";
import { readSse } from "./sse.js";

/** A deployment of `provider` at `baseUrl`, with short timeouts. */
export function localDeployment(provider: ProviderKind, baseUrl: string, extra: Partial<Deployment> = {}): Deployment {
  return fakeDeployment(baseUrl, { provider, ...extra });
}

/** The columns of one recorded exchange the tests read. */
export interface RecordRow {
  response: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  status: string;
  http_status: number;
  error: string | null;
  usage_estimated: number | null;
  finish_reason: string | null;
  provider: string | null;
  stream: number;
  response_json: string | null;
}

/** The record of the request sent with `x-request-id: requestId` (fails unless exactly one). */
export async function recordOf(proxy: TestProxy, requestId: string): Promise<RecordRow> {
  await proxy.server.ctx.recorder.flush();
  const found = rows<RecordRow>(
    proxy.dbPath,
    `SELECT r.response, r.input_tokens, r.output_tokens, r.response_json, x.status, x.http_status, x.error, x.usage_estimated,
            x.finish_reason, x.provider, x.stream
       FROM llm_relay_exchanges x JOIN responses r ON r.id = x.response_id WHERE x.request_id = ?`,
    requestId,
  );
  expect(found, `records of ${requestId}`).toHaveLength(1);
  return found[0]!;
}

/** POSTs a streamed chat request and returns the HTTP status and every SSE `data:` payload. */
export async function streamEvents(
  proxy: TestProxy,
  body: Record<string, unknown>,
  requestId: string,
): Promise<{ status: number; events: string[] }> {
  const response = await fetch(`${proxy.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify({ ...body, stream: true }),
  });
  return { status: response.status, events: await readSse(response) };
}

/** The concatenated `delta.content` of chunk events (the in-band error and `[DONE]` are skipped). */
export function streamedText(events: string[]): string {
  return events
    .filter((e) => e !== "[DONE]")
    .map((e) => JSON.parse(e) as { choices?: { delta?: { content?: string } }[] })
    .map((chunk) => chunk.choices?.[0]?.delta?.content ?? "")
    .join("");
}
