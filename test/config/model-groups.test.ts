/**
 * Model entries with several deployments and routing keys, the router-wide
 * `routing:` settings and `debug`, loaded from real files: what a user
 * writes in llm-relay.yaml and what the router then sees.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";

let cwd: string;
beforeEach(() => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "llm-relay-groups-"));
});
afterEach(() => {
  fs.rmSync(cwd, { recursive: true, force: true });
});

function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  fs.writeFileSync(path.join(cwd, "llm-relay.yaml"), yaml);
  return loadConfig({ cwd, env });
}

function loadError(yaml: string): string {
  try {
    load(yaml);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("model groups", () => {
  it("reads several deployments with weights and the model's routing keys", () => {
    const config = load(`
models:
  gpt-4o:
    deployments:
      - { provider: openai-compatible, base_url: "http://127.0.0.1:9001/v1", weight: 2 }
      - { provider: openai-compatible, base_url: "http://127.0.0.1:9002/v1", model: gpt-4o-2024-08-06 }
    routing_strategy: least-busy
    num_retries: 2
    fallbacks: [backup]
  backup: { provider: echo }
`);
    const group = config.models["gpt-4o"]!;
    expect(group.deployments.map((d) => [d.base_url, d.weight, d.model])).toEqual([
      ["http://127.0.0.1:9001/v1", 2, undefined],
      ["http://127.0.0.1:9002/v1", 1, "gpt-4o-2024-08-06"],
    ]);
    expect(group).toMatchObject({
      name: "gpt-4o",
      strategy: "least-busy",
      numRetries: 2,
      fallbacks: ["backup"],
      contextWindowFallbacks: [],
    });
  });

  it("takes a model's defaults from routing:, and a single inline deployment is a group of one", () => {
    const config = load(`
routing: { strategy: latency-based, num_retries: 3, cooldown_ms: 5000 }
models:
  local: { provider: llamacpp, base_url: "http://127.0.0.1:8080", prompt_format: llama3, first_token_timeout_ms: 3000 }
`);
    expect(config.routing).toMatchObject({
      strategy: "latency-based",
      num_retries: 3,
      cooldown_ms: 5000,
      allowed_fails: 3,
    });
    const group = config.models.local!;
    expect(group).toMatchObject({ strategy: "latency-based", numRetries: 3 });
    expect(group.deployments).toHaveLength(1);
    expect(group.deployments[0]).toMatchObject({
      provider: "llamacpp",
      prompt_format: "llama3",
      first_token_timeout_ms: 3000,
      timeout_ms: 600_000,
    });
  });

  it("refuses an entry with both provider and deployments, or neither, naming the key", () => {
    expect(loadError(`models: { x: { provider: echo, deployments: [{ provider: echo }] } }`)).toMatch(
      /models\.x.*either provider/,
    );
    expect(loadError(`models: { x: { weight: 2 } }`)).toMatch(/models\.x.*either provider/);
  });

  it("refuses a fallback that leads nowhere, naming the model and the key", () => {
    expect(loadError(`default_model: null\nmodels: { a: { provider: echo, fallbacks: [nowhere] } }`)).toMatch(
      /models\.a\.fallbacks: 'nowhere' matches no model/,
    );
    expect(
      loadError(`default_model: null\nmodels: { a: { provider: echo, context_window_fallbacks: [gone] } }`),
    ).toMatch(/models\.a\.context_window_fallbacks: 'gone'/);
  });

  it("refuses an unknown provider kind and an unknown strategy", () => {
    expect(loadError(`models: { x: { provider: openai } }`)).toMatch(/models\.x\.provider/);
    expect(loadError(`routing: { strategy: round-robin }`)).toMatch(/routing\.strategy/);
  });
});

describe("debug", () => {
  it("is off by default; LLM_RELAY_DEBUG=1 turns it on and lowers the log level to debug", () => {
    expect(load("").debug).toBe(false);
    const config = load("", { LLM_RELAY_DEBUG: "1" });
    expect(config.debug).toBe(true);
    expect(config.logLevel).toBe("debug");
    expect(load("", { LLM_RELAY_DEBUG: "0" }).debug).toBe(false);
  });

  it("keeps a more verbose level, and the flag wins over the file", () => {
    expect(load("debug: true\nlog_level: trace").logLevel).toBe("trace");
    fs.writeFileSync(path.join(cwd, "llm-relay.yaml"), "debug: false");
    expect(loadConfig({ cwd, env: {}, debug: true }).debug).toBe(true);
  });
});
