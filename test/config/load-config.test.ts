/**
 * loadConfig against real files in a temp directory used as the working
 * directory, with explicit environments: defaults, the implicit
 * ./llm-relay.yaml, --config, validation errors that name the file and
 * the key, precedence (flags > env > file > defaults) and the presets
 * that turn on with an API key in the environment.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";

let cwd: string;
beforeEach(() => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "llm-relay-config-"));
});
afterEach(() => {
  fs.rmSync(cwd, { recursive: true, force: true });
});

/** Writes `text` to `name` in the temp cwd; returns its absolute path. */
function writeFile(name: string, text: string): string {
  const file = path.join(cwd, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** The ConfigError loadConfig throws for these options (fails when it does not throw one). */
function configError(options: Parameters<typeof loadConfig>[0]): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(options);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe("without a config file", () => {
  it("uses the defaults: 127.0.0.1:11435, default_model echo, the echo model", () => {
    const config = loadConfig({ cwd, env: {} });
    expect(config.host).toBe("127.0.0.1");
    expect(config.port).toBe(11435);
    expect(config.defaultModel).toBe("echo");
    expect(config.configPath).toBeNull();
    expect(config.models.echo!.deployments[0]).toMatchObject({ provider: "echo" });
    expect(Object.keys(config.models)).toEqual(["echo"]);
    expect(config.aliases).toEqual({});
    expect(path.isAbsolute(config.dbPath)).toBe(true);
    expect(path.basename(config.dbPath)).toBe("logs.db");
  });
});

describe("config files", () => {
  it("reads ./llm-relay.yaml from the working directory when present", () => {
    const file = writeFile(
      "llm-relay.yaml",
      "port: 9123\ndefault_model: echo\nbody_limit_mb: 2\nmodels:\n  local:\n    provider: openai-compatible\n    base_url: http://127.0.0.1:8080/v1\n",
    );
    const config = loadConfig({ cwd, env: {} });
    expect(config.configPath).toBe(file);
    expect(config.port).toBe(9123);
    expect(config.bodyLimitBytes).toBe(2 * 1024 * 1024);
    expect(config.models.local!.deployments[0]).toMatchObject({
      provider: "openai-compatible",
      base_url: "http://127.0.0.1:8080/v1",
    });
    expect(config.models.echo).toBeDefined();
  });

  it("reads a --config path relative to the working directory", () => {
    const file = writeFile("conf/relay.yaml", "port: 9200\n");
    const config = loadConfig({ cwd, env: {}, configPath: "conf/relay.yaml" });
    expect(config.configPath).toBe(file);
    expect(config.port).toBe(9200);
  });

  it("throws a ConfigError naming a missing --config path", () => {
    const error = configError({ cwd, env: {}, configPath: "nowhere/relay.yaml" });
    expect(error.message).toContain(path.join(cwd, "nowhere/relay.yaml"));
  });

  it("throws a ConfigError naming the file and the key of an invalid value", () => {
    const file = writeFile(
      "llm-relay.yaml",
      'models:\n  a:\n    provider: openai-compatible\n    base_url: "not a url"\n',
    );
    const error = configError({ cwd, env: {} });
    expect(error.message).toContain(file);
    expect(error.message).toContain("models.a.base_url");
  });

  it("throws a ConfigError naming an unknown key, at the top level and in a deployment", () => {
    writeFile("llm-relay.yaml", "colour: blue\n");
    expect(configError({ cwd, env: {} }).message).toContain("colour");

    writeFile("llm-relay.yaml", "models:\n  a:\n    provider: echo\n    temprature: 0.2\n");
    const error = configError({ cwd, env: {} });
    expect(error.message).toContain("temprature");
    expect(error.message).toContain("models.a");
  });

  it("throws a ConfigError naming the file when it is not YAML", () => {
    const file = writeFile("llm-relay.yaml", "models: [unclosed\n");
    expect(configError({ cwd, env: {} }).message).toContain(file);
  });

  it("has no default model when the file does not set default_model", () => {
    writeFile("llm-relay.yaml", "port: 9300\n");
    expect(loadConfig({ cwd, env: {} }).defaultModel).toBeNull();
    writeFile("llm-relay.yaml", "default_model: echo\n");
    expect(loadConfig({ cwd, env: {} }).defaultModel).toBe("echo");
  });

  it("refuses a default_model or an alias that leads to no deployment, naming the key", () => {
    const file = writeFile("llm-relay.yaml", "default_model: gpt-5\n");
    const error = configError({ cwd, env: {} });
    expect(error.message).toContain(file);
    expect(error.message).toContain("default_model: 'gpt-5'");

    writeFile("llm-relay.yaml", "aliases:\n  fast: groq/llama\n");
    expect(configError({ cwd, env: {} }).message).toContain("aliases.fast");
    // The same alias is fine once the groq preset routes `groq/*`.
    expect(loadConfig({ cwd, env: { GROQ_API_KEY: "k" } }).aliases).toEqual({ fast: "groq/llama" });
  });
});

describe("precedence: flags > environment > file > defaults", () => {
  const fileText = "host: 10.0.0.1\nport: 9001\ndb: from-file.db\n";

  it("takes the file over the defaults", () => {
    writeFile("llm-relay.yaml", fileText);
    const config = loadConfig({ cwd, env: {} });
    expect(config).toMatchObject({ host: "10.0.0.1", port: 9001, dbPath: path.join(cwd, "from-file.db") });
  });

  it("takes the environment over the file", () => {
    writeFile("llm-relay.yaml", fileText);
    const env = { LLM_RELAY_HOST: "10.0.0.2", LLM_RELAY_PORT: "9002", LLM_RELAY_DB: "from-env.db" };
    const config = loadConfig({ cwd, env });
    expect(config).toMatchObject({ host: "10.0.0.2", port: 9002, dbPath: path.join(cwd, "from-env.db") });
  });

  it("takes the flags over the environment", () => {
    writeFile("llm-relay.yaml", fileText);
    const env = { LLM_RELAY_HOST: "10.0.0.2", LLM_RELAY_PORT: "9002", LLM_RELAY_DB: "from-env.db" };
    const config = loadConfig({ cwd, env, host: "10.0.0.3", port: 9003, db: "from-flag.db" });
    expect(config).toMatchObject({ host: "10.0.0.3", port: 9003, dbPath: path.join(cwd, "from-flag.db") });
  });

  it("picks the config file: --config > LLM_RELAY_CONFIG > ./llm-relay.yaml", () => {
    writeFile("llm-relay.yaml", "port: 9001\n");
    const envFile = writeFile("env.yaml", "port: 9002\n");
    const flagFile = writeFile("flag.yaml", "port: 9003\n");
    expect(loadConfig({ cwd, env: {} }).port).toBe(9001);
    expect(loadConfig({ cwd, env: { LLM_RELAY_CONFIG: envFile } })).toMatchObject({ port: 9002, configPath: envFile });
    expect(loadConfig({ cwd, env: { LLM_RELAY_CONFIG: envFile }, configPath: flagFile })).toMatchObject({
      port: 9003,
      configPath: flagFile,
    });
  });

  it("treats empty LLM_RELAY_* variables as unset (as `LLM_RELAY_HOST= llm-relay serve` or compose's ${VAR} yield)", () => {
    writeFile("llm-relay.yaml", fileText);
    const config = loadConfig({
      cwd,
      env: { LLM_RELAY_HOST: "", LLM_RELAY_PORT: "", LLM_RELAY_DB: "", LLM_RELAY_CONFIG: "" },
    });
    // An empty host would make the server listen on every interface; an empty db path is the directory itself.
    expect(config).toMatchObject({ host: "10.0.0.1", port: 9001, dbPath: path.join(cwd, "from-file.db") });
  });

  it("rejects an LLM_RELAY_PORT that is not a port", () => {
    expect(configError({ cwd, env: { LLM_RELAY_PORT: "eighty" } }).message).toContain("LLM_RELAY_PORT");
  });
});

describe("hostile-input limits: max_json_depth, body_timeout_ms, max_body_mb_in_flight, allow_unauthenticated", () => {
  const MB = 1024 * 1024;

  it("has defaults: 64 levels, 30 s, 64 MB, not allowed", () => {
    expect(loadConfig({ cwd, env: {} })).toMatchObject({
      maxJsonDepth: 64,
      bodyTimeoutMs: 30_000,
      maxBodyBytesInFlight: 64 * MB,
      allowUnauthenticated: false,
    });
  });

  it("takes flags over the environment over the file", () => {
    writeFile(
      "llm-relay.yaml",
      "max_json_depth: 10\nbody_timeout_ms: 1000\nmax_body_mb_in_flight: 8\nallow_unauthenticated: false\n",
    );
    expect(loadConfig({ cwd, env: {} })).toMatchObject({
      maxJsonDepth: 10,
      bodyTimeoutMs: 1_000,
      maxBodyBytesInFlight: 8 * MB,
      allowUnauthenticated: false,
    });
    const env = {
      LLM_RELAY_MAX_JSON_DEPTH: "20",
      LLM_RELAY_BODY_TIMEOUT_MS: "2000",
      LLM_RELAY_MAX_BODY_MB_IN_FLIGHT: "0.5",
      LLM_RELAY_ALLOW_UNAUTHENTICATED: "1",
    };
    expect(loadConfig({ cwd, env })).toMatchObject({
      maxJsonDepth: 20,
      bodyTimeoutMs: 2_000,
      maxBodyBytesInFlight: 0.5 * MB,
      allowUnauthenticated: true,
    });
    expect(
      loadConfig({
        cwd,
        env,
        maxJsonDepth: 30,
        bodyTimeoutMs: 3_000,
        maxBodyMbInFlight: 16,
        allowUnauthenticated: true,
      }),
    ).toMatchObject({
      maxJsonDepth: 30,
      bodyTimeoutMs: 3_000,
      maxBodyBytesInFlight: 16 * MB,
      allowUnauthenticated: true,
    });
    expect(loadConfig({ cwd, env: { LLM_RELAY_ALLOW_UNAUTHENTICATED: "0" } }).allowUnauthenticated).toBe(false);
  });

  it("rejects values that are not positive, naming the key or variable", () => {
    writeFile("bad.yaml", "max_json_depth: 0\n");
    expect(configError({ cwd, env: {}, configPath: "bad.yaml" }).message).toContain("max_json_depth");
    expect(configError({ cwd, env: { LLM_RELAY_BODY_TIMEOUT_MS: "soon" } }).message).toContain(
      "LLM_RELAY_BODY_TIMEOUT_MS",
    );
    expect(configError({ cwd, env: { LLM_RELAY_MAX_JSON_DEPTH: "1.5" } }).message).toContain(
      "LLM_RELAY_MAX_JSON_DEPTH",
    );
  });
});

describe("presets", () => {
  // Base URLs as each provider's API documentation gives them (see src/config/presets.ts).
  const presets = [
    {
      env: "OPENAI_API_KEY",
      pattern: "openai/*",
      provider: "openai-compatible",
      base_url: "https://api.openai.com/v1",
    },
    {
      env: "GROQ_API_KEY",
      pattern: "groq/*",
      provider: "openai-compatible",
      base_url: "https://api.groq.com/openai/v1",
    },
    {
      env: "DEEPSEEK_API_KEY",
      pattern: "deepseek/*",
      provider: "openai-compatible",
      base_url: "https://api.deepseek.com/v1",
    },
    {
      env: "MISTRAL_API_KEY",
      pattern: "mistral/*",
      provider: "openai-compatible",
      base_url: "https://api.mistral.ai/v1",
    },
    {
      env: "OPENROUTER_API_KEY",
      pattern: "openrouter/*",
      provider: "openai-compatible",
      base_url: "https://openrouter.ai/api/v1",
    },
    {
      env: "TOGETHER_API_KEY",
      pattern: "together/*",
      provider: "openai-compatible",
      base_url: "https://api.together.ai/v1",
    },
    {
      env: "FIREWORKS_API_KEY",
      pattern: "fireworks/*",
      provider: "openai-compatible",
      base_url: "https://api.fireworks.ai/inference/v1",
    },
    {
      env: "GEMINI_API_KEY",
      pattern: "gemini/*",
      provider: "openai-compatible",
      base_url: "https://generativelanguage.googleapis.com/v1beta/openai",
    },
    { env: "XAI_API_KEY", pattern: "xai/*", provider: "openai-compatible", base_url: "https://api.x.ai/v1" },
    { env: "ANTHROPIC_API_KEY", pattern: "anthropic/*", provider: "anthropic", base_url: "https://api.anthropic.com" },
  ];

  it.each(presets)("adds $pattern when $env is set, and only then", ({ env, pattern, provider, base_url }) => {
    const config = loadConfig({ cwd, env: { [env]: "sk-test" } });
    expect(config.models[pattern]!.deployments[0]).toMatchObject({ provider, base_url, api_key_env: env });
    const others = presets.filter((p) => p.pattern !== pattern).map((p) => p.pattern);
    for (const other of others) expect(config.models[other]).toBeUndefined();
    expect(loadConfig({ cwd, env: {} }).models[pattern]).toBeUndefined();
    expect(loadConfig({ cwd, env: { [env]: "" } }).models[pattern]).toBeUndefined();
  });

  it("routes a preset's models by its pattern once active", () => {
    const config = loadConfig({ cwd, env: { ANTHROPIC_API_KEY: "k" } });
    expect(Object.keys(config.models).sort()).toEqual(["anthropic/*", "echo"]);
  });

  it("lets the config file override a preset", () => {
    writeFile(
      "llm-relay.yaml",
      "models:\n  groq/*:\n    provider: openai-compatible\n    base_url: http://127.0.0.1:9999/v1\n",
    );
    const config = loadConfig({ cwd, env: { GROQ_API_KEY: "sk-test", OPENAI_API_KEY: "sk-test" } });
    expect(config.models["groq/*"]!.deployments[0]!.base_url).toBe("http://127.0.0.1:9999/v1");
    expect(config.models["openai/*"]!.deployments[0]!.base_url).toBe("https://api.openai.com/v1");
  });

  it("activates a preset listed under presets: without its key in the environment", () => {
    writeFile("llm-relay.yaml", "presets:\n  mistral:\n  groq: {}\n");
    const config = loadConfig({ cwd, env: {} });
    expect(config.models["mistral/*"]!.deployments[0]).toMatchObject({
      provider: "openai-compatible",
      base_url: "https://api.mistral.ai/v1",
      api_key_env: "MISTRAL_API_KEY",
    });
    expect(config.models["groq/*"]!.deployments[0]).toMatchObject({
      base_url: "https://api.groq.com/openai/v1",
      api_key_env: "GROQ_API_KEY",
    });
    expect(config.models["openai/*"]).toBeUndefined();
  });

  it("takes a preset's key variable and base URL from presets:", () => {
    writeFile(
      "llm-relay.yaml",
      "presets:\n  anthropic:\n    api_key_env: WORK_CLAUDE_KEY\n    base_url: http://127.0.0.1:8899\n",
    );
    const config = loadConfig({ cwd, env: {} });
    expect(config.models["anthropic/*"]!.deployments[0]).toMatchObject({
      provider: "anthropic",
      base_url: "http://127.0.0.1:8899",
      api_key_env: "WORK_CLAUDE_KEY",
    });
  });

  it("rejects an unknown preset name and a bad presets: value, naming the key", () => {
    writeFile("llm-relay.yaml", "presets:\n  openia: {}\n");
    const unknown = configError({ cwd, env: {} });
    expect(unknown.message).toContain("presets.openia");
    expect(unknown.message).toContain("unknown preset");
    writeFile("llm-relay.yaml", "presets:\n  groq:\n    base_url: not a url\n");
    expect(configError({ cwd, env: {} }).message).toContain("presets.groq.base_url");
    writeFile("llm-relay.yaml", "presets:\n  groq:\n    api_key: sk-secret\n");
    expect(configError({ cwd, env: {} }).message).toContain("presets.groq");
  });
});
