/** Shared setup of the library tests: temp databases and configs, and a guard that no call rejects. */
import fs from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { loadConfig, type RelayConfig } from "../../src/config/load.js";
import { asModelGroups, type Deployment } from "../../src/config/schema.js";
import type { LLMResponse } from "../../src/index.js";
import { tempDir } from "../helpers/proxy.js";
import { omit } from "../helpers/omit.js";

/** A temp directory with a logs.db path in it. */
export function tempDb(): { dir: string; dbPath: string; remove(): void } {
  const dir = tempDir("llm-relay-lib-");
  return { dir, dbPath: path.join(dir, "logs.db"), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A full config without a file: echo, plus `models`, with unknown names getting 404 (`defaultModel: null`). */
export function libraryConfig(dbPath: string, models: Record<string, Deployment> = {}): RelayConfig {
  const base = loadConfig({ cwd: path.dirname(dbPath), env: {}, db: dbPath });
  return { ...base, defaultModel: null, models: { ...base.models, ...asModelGroups(models) } };
}

/** Awaits a call, failing the test if it rejects (it never may). */
export async function settled(promise: Promise<LLMResponse>): Promise<LLMResponse> {
  let outcome: { ok: true; value: LLMResponse } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await promise };
  } catch (error) {
    outcome = { ok: false, error };
  }
  expect(outcome, "a library call rejected").toMatchObject({ ok: true });
  return (outcome as { value: LLMResponse }).value;
}

/** Checks the invariants of every answer: shape, positive and plausible time, success ⇔ no error. */
export function expectWellFormed(response: LLMResponse, maxSeconds = 10): void {
  expect(typeof response.content).toBe("string");
  expect(response.responseTime).toBeGreaterThan(0);
  expect(response.responseTime).toBeLessThan(maxSeconds);
  expect(response.tokensUsed).toBe(response.inputTokens + response.outputTokens);
  if (response.success) expect(response.error).toBeUndefined();
  else expect(response.error).toEqual(expect.any(String));
}

/** The fields that must agree between two answers to the same call (times and ids differ). */
export function comparable(response: LLMResponse): Omit<LLMResponse, "responseTime" | "id"> {
  return omit(response, "responseTime", "id");
}
