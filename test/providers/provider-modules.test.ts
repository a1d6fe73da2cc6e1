/**
 * Issue 23 item 1: a provider is a module that declares itself, and the
 * kinds, the registry's factories, the config schema's `provider` enum and
 * the local (free) rule of the cost are all derived from one list.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { exchangeCostUsd, LOCAL_PROVIDER_KINDS } from "../../src/catalog/index.js";
import { deploymentSchema, PROVIDER_KINDS } from "../../src/config/schema.js";
import { isLocalProviderKind } from "../../src/providers/local-kinds.js";
import { PROVIDER_MODULES, providerModule } from "../../src/providers/modules.js";
import { ProviderRegistry } from "../../src/providers/registry.js";

/** Keys that let every kind's factory build its provider without I/O (factories do none; discovery waits for the first call). */
const USABLE = {
  base_url: "http://127.0.0.1:9/v1",
  model: "some-model",
  model_path: "/nonexistent/model.gguf",
  api_key_env: "PROVIDER_MODULES_TEST_KEY",
};

describe("the provider modules", () => {
  it("name each kind once, and the kinds are the config's", () => {
    const kinds = PROVIDER_MODULES.map((module) => module.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(kinds).toEqual([...PROVIDER_KINDS]);
    for (const kind of kinds) expect(providerModule(kind).kind).toBe(kind);
  });

  it("each declare at least the chat protocol", () => {
    for (const module of PROVIDER_MODULES) expect(module.protocols, module.kind).toContain("chat");
  });

  it("are the kinds the config schema accepts, and no other", () => {
    for (const kind of PROVIDER_KINDS) expect(deploymentSchema.safeParse({ provider: kind }).success, kind).toBe(true);
    const unknown = deploymentSchema.safeParse({ provider: "not-a-provider" });
    expect(unknown.success).toBe(false);
    expect(unknown.error?.issues[0]?.path).toEqual(["provider"]);
  });

  it("give the registry its factories: each deployment gets a provider of its own kind", async () => {
    const registry = new ProviderRegistry({
      env: { PROVIDER_MODULES_TEST_KEY: "sk-test" },
      logger: pino({ level: "silent" }),
      debug: false,
      baseDir: "/",
    });
    try {
      for (const module of PROVIDER_MODULES) {
        const deployment = deploymentSchema.parse({ provider: module.kind, ...USABLE });
        const provider = registry.get(deployment);
        expect(provider.kind, module.kind).toBe(module.kind);
        expect(registry.get(deployment), module.kind).toBe(provider);
        expect(typeof provider.embed === "function", `${module.kind} embeddings`).toBe(
          module.protocols.includes("embeddings"),
        );
      }
    } finally {
      await registry.close();
    }
  });

  it("marked local are exactly the free kinds", () => {
    const local = PROVIDER_MODULES.filter((module) => module.local).map((module) => module.kind);
    expect([...LOCAL_PROVIDER_KINDS].sort()).toEqual([...local].sort());
    expect(local).toEqual(
      expect.arrayContaining(["echo", "ollama", "llamacpp", "koboldcpp", "webui", "lmstudio", "vllm", "local"]),
    );
    expect(local).not.toContain("openai-compatible");
    expect(local).not.toContain("anthropic");
    expect(isLocalProviderKind("not-a-provider")).toBe(false);
  });

  it("marked local cost $0 through exchangeCostUsd; a hosted kind with no price costs null", () => {
    const usage = { input: 1_000_000, output: 1_000_000 };
    for (const module of PROVIDER_MODULES) {
      const cost = exchangeCostUsd({
        provider: module.kind,
        deployment: "my-model",
        upstreamModel: "some-model",
        usage,
      });
      expect(cost, module.kind).toBe(module.local ? 0 : null);
    }
  });
});
