/**
 * Model name → deployment: exact names, aliases, `prefix/*` patterns
 * (longest prefix wins, the rest of the name goes upstream), the
 * default_model fallback and 404 model_not_found without one; picking
 * among a model's deployments and their labels.
 */
import { describe, expect, it } from "vitest";
import { deploymentDefaults, type Deployment, type ModelGroup } from "../../src/config/schema.js";
import { RelayError } from "../../src/protocol/errors.js";
import { deploymentLabel, Router } from "../../src/routing/router.js";

function upstream(base_url: string, extra: Partial<Deployment> = {}): Deployment {
  return { ...deploymentDefaults("openai-compatible"), base_url, ...extra };
}

const echo: Deployment = deploymentDefaults("echo");
const groq = upstream("https://api.groq.com/openai/v1");
const local = upstream("http://127.0.0.1:8080/v1", { model: "qwen2.5-coder-7b-instruct-q4" });
const vendor = upstream("http://vendor.example/v1");
const vendorBig = upstream("http://vendor-big.example/v1");
const special = upstream("http://special.example/v1");

const models: Record<string, Deployment> = {
  echo,
  "groq/*": groq,
  local,
  "vendor/*": vendor,
  "vendor/big/*": vendorBig,
  "groq/special": special,
};
const aliases = { coder: "local", fast: "groq/llama-3.1-8b-instant", loop1: "loop2", loop2: "loop1" };

function router(defaultModel: string | null): Router {
  return new Router({ models, aliases, defaultModel });
}

/** The RelayError resolve throws for `model`. */
function notFound(r: Router, model: string): RelayError {
  let thrown: unknown;
  try {
    r.resolve(model);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(RelayError);
  return thrown as RelayError;
}

describe("Router.resolve", () => {
  it("matches an exact model name, sending the name upstream unless the deployment sets model", () => {
    expect(router(null).resolve("echo")).toMatchObject({
      deploymentName: "echo",
      deployment: echo,
      upstreamModel: "echo",
    });
    expect(router(null).resolve("local")).toMatchObject({
      deploymentName: "local",
      deployment: local,
      upstreamModel: "qwen2.5-coder-7b-instruct-q4",
    });
  });

  it("follows an alias to its model", () => {
    expect(router(null).resolve("coder")).toMatchObject({
      deploymentName: "local",
      deployment: local,
      upstreamModel: "qwen2.5-coder-7b-instruct-q4",
    });
  });

  it("follows an alias to a name served by a pattern", () => {
    expect(router(null).resolve("fast")).toMatchObject({
      deploymentName: "groq/*",
      deployment: groq,
      upstreamModel: "llama-3.1-8b-instant",
    });
  });

  it("sends the part after the prefix upstream for a prefix/* pattern", () => {
    expect(router(null).resolve("groq/llama-3.1-8b-instant")).toMatchObject({
      deploymentName: "groq/*",
      deployment: groq,
      upstreamModel: "llama-3.1-8b-instant",
    });
    expect(router(null).resolve("groq/meta-llama/llama-4-scout-17b-16e-instruct").upstreamModel).toBe(
      "meta-llama/llama-4-scout-17b-16e-instruct",
    );
  });

  it("prefers the longest matching prefix", () => {
    expect(router(null).resolve("vendor/big/model-x")).toMatchObject({
      deploymentName: "vendor/big/*",
      deployment: vendorBig,
      upstreamModel: "model-x",
    });
    expect(router(null).resolve("vendor/small")).toMatchObject({
      deploymentName: "vendor/*",
      deployment: vendor,
      upstreamModel: "small",
    });
    expect(router(null).resolve("vendor/bigger").deploymentName).toBe("vendor/*");
  });

  it("prefers an exact name over a pattern", () => {
    expect(router(null).resolve("groq/special")).toMatchObject({
      deploymentName: "groq/special",
      deployment: special,
      upstreamModel: "groq/special",
    });
  });

  it("does not match a pattern with nothing after the prefix", () => {
    expect(notFound(router(null), "groq/").code).toBe("model_not_found");
  });

  it("falls back to default_model for an unknown name", () => {
    expect(router("echo").resolve("gpt-4o")).toMatchObject({
      deploymentName: "echo",
      deployment: echo,
      upstreamModel: "echo",
    });
    expect(router("fast").resolve("gpt-4o")).toMatchObject({
      deploymentName: "groq/*",
      deployment: groq,
      upstreamModel: "llama-3.1-8b-instant",
    });
    // Known names still go to their own deployment.
    expect(router("echo").resolve("groq/x").deploymentName).toBe("groq/*");
  });

  it("answers 404 model_not_found (param model) for an unknown name without a default", () => {
    const error = notFound(router(null), "gpt-4o");
    expect(error.status).toBe(404);
    expect(error.code).toBe("model_not_found");
    expect(error.param).toBe("model");
    expect(error.message).toContain("gpt-4o");
  });

  it("answers 404 when the default_model itself matches nothing", () => {
    expect(notFound(router("missing-default"), "gpt-4o").status).toBe(404);
  });

  it("stops on an alias loop instead of recursing forever", () => {
    expect(notFound(router(null), "loop1").status).toBe(404);
  });
});

describe("Router.listModels", () => {
  it("lists exact names, aliases that resolve, and patterns", () => {
    const ids = router(null)
      .listModels()
      .map((m) => m.id);
    expect(ids).toEqual(
      expect.arrayContaining(["echo", "local", "groq/special", "coder", "fast", "groq/*", "vendor/*", "vendor/big/*"]),
    );
    expect(ids).not.toContain("loop1");
  });
});

describe("Router.pick and deployment labels", () => {
  const first = upstream("http://a.example/v1", { model: "model-a" });
  const second = upstream("http://b.example/v1");
  const group = (name: string): ModelGroup => ({
    name,
    deployments: [first, second],
    strategy: "least-busy",
    fallbacks: ["solo"],
    contextWindowFallbacks: [],
    numRetries: 1,
  });
  const multi = new Router({
    models: { pair: group("pair"), "pat/*": group("pat/*"), solo: local },
    aliases: {},
    defaultModel: "solo",
  });

  it("names the n-th of several deployments `name#n`, a single one by its name", () => {
    const route = multi.resolve("pair");
    expect(deploymentLabel(route)).toBe("pair#1");
    expect(deploymentLabel(multi.resolve("solo"))).toBe("solo");
  });

  it("sends each deployment's own model upstream (the model name when it has none); patterns keep the rest of the name", () => {
    const route = multi.resolve("pair");
    const other = multi.pick(route, { blocked: new Set([first]) })!;
    expect(other).toMatchObject({ deployment: second, index: 1, upstreamModel: "pair", deploymentName: "pair" });
    expect(deploymentLabel(other)).toBe("pair#2");
    expect(multi.pick(route, { blocked: new Set([second]) })).toMatchObject({
      deployment: first,
      index: 0,
      upstreamModel: "model-a",
    });
    expect(multi.pick(multi.resolve("pat/x-1"), { blocked: new Set([first]) })).toMatchObject({
      deployment: second,
      upstreamModel: "x-1",
    });
    expect(multi.pick(route, { blocked: new Set([first, second]) })).toBeNull();
  });

  it("resolves fallbacks by name only, never through default_model", () => {
    expect(multi.resolveFallback("solo")?.deployment).toBe(local);
    expect(multi.resolveFallback("nowhere")).toBeNull();
    expect(multi.resolve("nowhere").deploymentName).toBe("solo");
  });
});
