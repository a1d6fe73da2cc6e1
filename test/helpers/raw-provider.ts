/**
 * Helpers shared by the raw-completion provider tests (llamacpp,
 * koboldcpp, webui): a deployment of a fake, and the record of one exchange
 * with its token columns.
 */
import { expect } from "vitest";
import { deploymentDefaults, type Deployment, type ProviderKind } from "../../src/config/schema.js";
import { rows } from "./db.js";
import type { TestProxy } from "./proxy.js";

/** A deployment of `provider` at `baseUrl` with short test timeouts. */
export function rawDeployment(provider: ProviderKind, baseUrl: string, extra: Partial<Deployment> = {}): Deployment {
  return { ...deploymentDefaults(provider), base_url: baseUrl, timeout_ms: 5_000, connect_timeout_ms: 1_000, ...extra };
}

/** The recorded `responses` row joined with its `llm_relay_exchanges` row. */
export interface RecordRow {
  model: string;
  prompt: string | null;
  response: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  provider: string;
  upstream_model: string | null;
  http_status: number;
  status: string;
  error: string | null;
  usage_estimated: number;
  finish_reason: string | null;
  stream: number;
}

/** The record of the request sent with `x-request-id: requestId` (flushes the recorder first). */
export async function recordRow(proxy: TestProxy, requestId: string): Promise<RecordRow> {
  await proxy.server.ctx.recorder.flush();
  const found = rows<RecordRow>(
    proxy.dbPath,
    `select r.model, r.prompt, r.response, r.input_tokens, r.output_tokens, x.provider, x.upstream_model, x.http_status, x.status,
            x.error, x.usage_estimated, x.finish_reason, x.stream
       from responses r join llm_relay_exchanges x on x.response_id = r.id where x.request_id = ?`,
    requestId,
  );
  expect(found, `records of ${requestId}`).toHaveLength(1);
  return found[0]!;
}

/** The conversation every raw-provider test sends. */
export const STORY_MESSAGES = [
  { role: "system" as const, content: "You tell short stories." },
  { role: "user" as const, content: "Once upon a time" },
];

/** {@link STORY_MESSAGES} in ChatML, as the `chatml` format must render it (no BOS: the backends add it). */
export const STORY_CHATML =
  "<|im_start|>system\nYou tell short stories.<|im_end|>\n<|im_start|>user\nOnce upon a time<|im_end|>\n<|im_start|>assistant\n";
