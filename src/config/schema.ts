/**
 * The configuration file (`llm-relay.yaml`), validated with zod.
 * See the README's config reference for every key.
 */
import { z } from "zod";

/** Provider kinds this build serves. */
export const PROVIDER_KINDS = ["openai-compatible", "echo"] as const;
/** A provider kind. */
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** One deployment: where and how a model name is served. */
export const deploymentSchema = z.strictObject({
  /** Which provider module serves it. */
  provider: z.enum(PROVIDER_KINDS),
  /** Base URL of an OpenAI-compatible API, up to and including `/v1`. */
  base_url: z.url().optional(),
  /** Name of the environment variable holding the upstream API key (the key itself never goes in the file). */
  api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name").optional(),
  /** The model name sent upstream; for a `prefix/*` pattern, the part after the prefix is used instead. */
  model: z.string().min(1).optional(),
  /** Time allowed for the first byte of the upstream response and between two chunks, in ms. */
  timeout_ms: z.number().int().positive().default(600_000),
  /** Time allowed to open the TCP/TLS connection, in ms. */
  connect_timeout_ms: z.number().int().positive().default(10_000),
  /** Context window of the model, in tokens (informational for now). */
  context_window: z.number().int().positive().optional(),
  /** Whether to add `stream_options.include_usage` to streamed requests (turn off for upstreams that reject it). */
  stream_usage: z.boolean().default(true),
});

/** The whole config file. */
export const configFileSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  /** Path of the SQLite logs.db. */
  db: z.string().min(1).optional(),
  /** Model name used for every request whose model matches no deployment; null disables it (unknown names get 404). */
  default_model: z.string().min(1).nullable().optional(),
  /** Largest accepted request body, in MB. */
  body_limit_mb: z.number().positive().default(20),
  /** Whether exchanges are recorded into the database (turn off only to measure the proxy without it). */
  record: z.boolean().default(true),
  /** pino log level. */
  log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** How long a graceful stop waits for in-flight exchanges before cancelling them, in ms. */
  shutdown_grace_ms: z.number().int().nonnegative().default(10_000),
  /** Model name (or `prefix/*` pattern) → deployment. */
  models: z.record(z.string().min(1), deploymentSchema).default({}),
  /** Alias → model name. */
  aliases: z.record(z.string().min(1), z.string().min(1)).default({}),
});

/** A deployment after defaults were applied. */
export type Deployment = z.infer<typeof deploymentSchema>;
/** The config file after defaults were applied. */
export type ConfigFile = z.infer<typeof configFileSchema>;
