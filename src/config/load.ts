/**
 * Builds the effective configuration from, in order of precedence:
 * command-line flags, environment variables, the config file, and the
 * embedded defaults (127.0.0.1:11435, SQLite, `default_model: echo`).
 */
import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { ZodError } from "zod";
import { defaultDbPath } from "./data-dir.js";
import { parseDuration } from "../tenancy/instants.js";
import { PRESET_NAMES, presetDeployments } from "./presets.js";
import { Router } from "../routing/router.js";
import { DEFAULT_MAX_JSON_DEPTH } from "../server/json-depth.js";
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_MB_IN_FLIGHT } from "../server/body-limits.js";
import {
  configFileSchema,
  deploymentDefaults,
  toModelGroup,
  type ConfigFile,
  type ModelGroup,
  type ModelsInput,
  type RoutingSettings,
} from "./schema.js";

/** Default bind address and port. */
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 11435;
/** The config file read from the working directory when present. */
export const DEFAULT_CONFIG_FILE = "llm-relay.yaml";
/** The built-in model that answers when nothing else is configured. */
export const ECHO_MODEL = "echo";

/** The effective configuration of a running proxy. */
export interface RelayConfig {
  host: string;
  port: number;
  /** Absolute path of the SQLite logs.db. */
  dbPath: string;
  /** PostgreSQL URL to record into instead of the SQLite file, or undefined (SQLite). */
  databaseUrl?: string;
  /** The config file read, or null when none. */
  configPath: string | null;
  /** Target for unmatched model names, or null (then they get 404). */
  defaultModel: string | null;
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes: number;
  /** Deepest nesting of `[`/`{` accepted in a JSON body, in levels (`max_json_depth`; default 64); deeper: 400 `json_too_deep`. */
  maxJsonDepth?: number;
  /** Time a request body may take to arrive, in ms (`body_timeout_ms`; default 30 000); slower: 408 `request_timeout`. */
  bodyTimeoutMs?: number;
  /** Request-body bytes held at once across requests (`max_body_mb_in_flight`; default 64 MB); past it: 503 `server_busy`. */
  maxBodyBytesInFlight?: number;
  /** Serve on a non-loopback host although requests need no key (`allow_unauthenticated`, `--allow-unauthenticated`); logged as a warning. */
  allowUnauthenticated?: boolean;
  logLevel: ConfigFile["log_level"];
  /** Whether exchanges are recorded. */
  record: boolean;
  /** Serve the conversation browser at `/ui` (`ui:`, LLM_RELAY_UI; default true; absent counts as true). */
  ui?: boolean;
  /** Graceful-stop wait for in-flight exchanges, in ms. */
  shutdownGraceMs: number;
  /** Model name or `prefix/*` pattern → its deployments and routing; always includes `echo`. */
  models: Record<string, ModelGroup>;
  /** Router-wide retry, cooldown and balancing settings. */
  routing: RoutingSettings;
  /** Log rendered prompts and raw backend payloads (`--debug`, `LLM_RELAY_DEBUG=1`, `debug: true`). */
  debug: boolean;
  /** Alias → model name. */
  aliases: Record<string, string>;
  /** API keys on `/v1/*` (`auth:`): `auto` (required once any key exists; the default when absent), `required`, `off`. */
  auth?: AuthMode;
  /** Redis URL for shared rate limits (`redis_url`, LLM_RELAY_REDIS_URL, REDIS_URL); undefined: in memory. */
  redisUrl?: string;
  /** How long an `Idempotency-Key`'s answer is kept, in ms (`idempotency_ttl_ms`; default 24 h). */
  idempotencyTtlMs?: number;
  /** Tenant budgets (`tenants:`): tenant → USD per period (ms; null: all time). */
  tenantBudgets?: Record<string, TenantBudget>;
  /**
   * Serve models with no price to keys and tenants with a USD budget (`allow_unpriced`); absent or false: such a
   * request is refused with 403 `model_not_priced` before any upstream call.
   */
  allowUnpriced?: boolean;
  /** Browser origins allowed by CORS (`cors_origins`; `*` for any); absent or empty: no CORS headers at all. */
  corsOrigins?: string[];
  /** The admin key (LLM_RELAY_MASTER_KEY, read at start; never in the file): `Authorization: Bearer` it for admin routes. Undefined: admin routes answer 403. */
  masterKey?: string;
}

/** A tenant's budget from the config. */
export interface TenantBudget {
  /** USD per period. */
  budgetUsd: number;
  /** The period in ms, or null for all time. */
  periodMs: number | null;
}

/** When `/v1/*` requests need an API key. */
export type AuthMode = ConfigFile["auth"];

/** A partial config given programmatically (library, tests): models may be bare deployments. */
export type LibraryConfigInput = Omit<Partial<RelayConfig>, "models"> & { models?: ModelsInput };

/** What the CLI (or a test) passes in; every field is optional. */
export interface LoadOptions {
  configPath?: string;
  host?: string;
  port?: number;
  db?: string;
  /** PostgreSQL URL (the `--database-url` flag); wins over LLM_RELAY_DATABASE_URL, DATABASE_URL and `database_url`. */
  databaseUrl?: string;
  /** false: do not record (the `--no-record` flag). */
  record?: boolean;
  /** true: the `--debug` flag. */
  debug?: boolean;
  /** `--max-json-depth`: wins over LLM_RELAY_MAX_JSON_DEPTH and `max_json_depth`. */
  maxJsonDepth?: number;
  /** `--body-timeout-ms`, in ms: wins over LLM_RELAY_BODY_TIMEOUT_MS and `body_timeout_ms`. */
  bodyTimeoutMs?: number;
  /** `--max-body-mb-in-flight`, in MB: wins over LLM_RELAY_MAX_BODY_MB_IN_FLIGHT and `max_body_mb_in_flight`. */
  maxBodyMbInFlight?: number;
  /** true: the `--allow-unauthenticated` flag (wins over LLM_RELAY_ALLOW_UNAUTHENTICATED and `allow_unauthenticated`). */
  allowUnauthenticated?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** A config file that cannot be read, parsed or validated. The message names the file and the bad key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Loads and validates the configuration.
 * @throws ConfigError when the config file is missing (if named explicitly), not YAML, or invalid
 */
export function loadConfig(options: LoadOptions = {}): RelayConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  // An empty variable counts as unset (`LLM_RELAY_HOST= llm-relay serve` must not bind every interface).
  const fromEnv = (name: string): string | undefined => env[name] || undefined;
  const configPath = resolveConfigPath(options.configPath ?? fromEnv("LLM_RELAY_CONFIG"), cwd);
  const file = configPath ? readConfigFile(configPath) : configFileSchema.parse({});

  const envPort = fromEnv("LLM_RELAY_PORT") ? parsePort(env.LLM_RELAY_PORT as string, "LLM_RELAY_PORT") : undefined;
  const models: Record<string, ModelGroup> = {
    [ECHO_MODEL]: toModelGroup(ECHO_MODEL, deploymentDefaults("echo"), file.routing),
  };
  for (const name of Object.keys(file.presets)) {
    if (!PRESET_NAMES.includes(name))
      throw new ConfigError(
        `Invalid config file ${configPath}: presets.${name}: unknown preset (known: ${PRESET_NAMES.join(", ")})`,
      );
  }
  for (const [name, deployment] of Object.entries(presetDeployments(env, file.presets)))
    models[name] = toModelGroup(name, deployment, file.routing);
  for (const [name, entry] of Object.entries(file.models)) models[name] = toModelGroup(name, entry, file.routing);
  for (const alias of Object.keys(file.aliases)) {
    if (models[alias])
      throw new ConfigError(`Invalid config file ${configPath}: aliases.${alias}: '${alias}' is already a model name`);
  }
  const defaultModel = file.default_model === undefined ? (configPath ? null : ECHO_MODEL) : file.default_model;

  checkTargets(configPath, models, file.aliases, defaultModel);
  const envFlag = (name: string): boolean | undefined =>
    fromEnv(name) ? env[name] !== "0" && env[name] !== "false" : undefined;
  const envNumber = (name: string, integer: boolean): number | undefined => {
    const value = fromEnv(name);
    return value === undefined ? undefined : parsePositive(value, name, integer);
  };
  const debug = options.debug ?? envFlag("LLM_RELAY_DEBUG") ?? file.debug;
  const maxBodyMbInFlight =
    options.maxBodyMbInFlight ??
    envNumber("LLM_RELAY_MAX_BODY_MB_IN_FLIGHT", false) ??
    file.max_body_mb_in_flight ??
    DEFAULT_MAX_BODY_MB_IN_FLIGHT;
  return {
    host: options.host ?? fromEnv("LLM_RELAY_HOST") ?? file.host ?? DEFAULT_HOST,
    port: options.port ?? envPort ?? file.port ?? DEFAULT_PORT,
    dbPath: path.resolve(cwd, options.db ?? fromEnv("LLM_RELAY_DB") ?? file.db ?? defaultDbPath(env)),
    ...databaseUrlOf(
      options.databaseUrl ??
        fromEnv("LLM_RELAY_DATABASE_URL") ??
        postgresOnly(fromEnv("DATABASE_URL")) ??
        file.database_url,
    ),
    configPath,
    defaultModel,
    bodyLimitBytes: Math.round(file.body_limit_mb * 1024 * 1024),
    maxJsonDepth:
      options.maxJsonDepth ??
      envNumber("LLM_RELAY_MAX_JSON_DEPTH", true) ??
      file.max_json_depth ??
      DEFAULT_MAX_JSON_DEPTH,
    bodyTimeoutMs:
      options.bodyTimeoutMs ??
      envNumber("LLM_RELAY_BODY_TIMEOUT_MS", true) ??
      file.body_timeout_ms ??
      DEFAULT_BODY_TIMEOUT_MS,
    maxBodyBytesInFlight: Math.round(maxBodyMbInFlight * 1024 * 1024),
    allowUnauthenticated:
      options.allowUnauthenticated ?? envFlag("LLM_RELAY_ALLOW_UNAUTHENTICATED") ?? file.allow_unauthenticated,
    logLevel: debug && ABOVE_DEBUG.has(file.log_level) ? "debug" : file.log_level,
    record: options.record ?? file.record,
    ui: envFlag("LLM_RELAY_UI") ?? file.ui,
    shutdownGraceMs: file.shutdown_grace_ms,
    models,
    aliases: file.aliases,
    routing: file.routing,
    debug,
    auth: file.auth,
    ...redisUrlOf(fromEnv("LLM_RELAY_REDIS_URL") ?? fromEnv("REDIS_URL") ?? file.redis_url),
    idempotencyTtlMs: file.idempotency_ttl_ms,
    tenantBudgets: Object.fromEntries(
      Object.entries(file.tenants).map(([tenant, t]) => [
        tenant,
        { budgetUsd: t.budget_usd, periodMs: t.budget_period === undefined ? null : parseDuration(t.budget_period) },
      ]),
    ),
    allowUnpriced: file.allow_unpriced,
    corsOrigins: file.cors_origins,
    ...(fromEnv("LLM_RELAY_MASTER_KEY") ? { masterKey: fromEnv("LLM_RELAY_MASTER_KEY") } : {}),
  };
}

/** The shared `DATABASE_URL` counts only when it names PostgreSQL (other tools may point it at another engine). */
function postgresOnly(url: string | undefined): string | undefined {
  return url !== undefined && POSTGRES_URL.test(url) ? url : undefined;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//;

/** `{ databaseUrl }` for a postgres:// URL, `{}` when none. @throws ConfigError for another scheme */
function databaseUrlOf(url: string | undefined): { databaseUrl?: string } {
  if (url === undefined) return {};
  if (!POSTGRES_URL.test(url))
    throw new ConfigError(
      `database_url must be a postgres:// or postgresql:// URL, got '${url.replace(/\/\/[^@/]*@/, "//…@")}'`,
    );
  return { databaseUrl: url };
}

/** `{ redisUrl }` for a redis:// or rediss:// URL, `{}` when none. @throws ConfigError for another scheme */
function redisUrlOf(url: string | undefined): { redisUrl?: string } {
  if (url === undefined) return {};
  if (!/^rediss?:\/\//.test(url))
    throw new ConfigError(`redis_url must be a redis:// or rediss:// URL, got '${url.replace(/\/\/[^@/]*@/, "//…@")}'`);
  return { redisUrl: url };
}

/** Levels that hide `debug` lines; `--debug` lowers them to `debug` so its output shows. */
const ABOVE_DEBUG = new Set(["info", "warn", "error", "fatal"]);

/** Every alias and the default model must lead to a deployment; the error names the key. */
function checkTargets(
  configPath: string | null,
  models: Record<string, ModelGroup>,
  aliases: Record<string, string>,
  defaultModel: string | null,
): void {
  const router = new Router({ models, aliases, defaultModel: null });
  const leadsNowhere = (name: string) => {
    try {
      router.resolve(name);
      return false;
    } catch {
      return true;
    }
  };
  for (const [alias, target] of Object.entries(aliases)) {
    if (leadsNowhere(alias))
      throw new ConfigError(
        `Invalid config file ${configPath}: aliases.${alias}: '${target}' matches no model or pattern`,
      );
  }
  if (defaultModel && leadsNowhere(defaultModel)) {
    throw new ConfigError(
      `Invalid config file ${configPath}: default_model: '${defaultModel}' matches no model or pattern`,
    );
  }
  for (const group of Object.values(models)) {
    for (const [key, list] of [
      ["fallbacks", group.fallbacks],
      ["context_window_fallbacks", group.contextWindowFallbacks],
    ] as const) {
      for (const target of list) {
        if (leadsNowhere(target))
          throw new ConfigError(
            `Invalid config file ${configPath}: models.${group.name}.${key}: '${target}' matches no model or pattern`,
          );
      }
    }
  }
}

function resolveConfigPath(explicit: string | undefined, cwd: string): string | null {
  if (explicit) {
    const full = path.resolve(cwd, explicit);
    if (!fs.existsSync(full)) throw new ConfigError(`Config file not found: ${full}`);
    return full;
  }
  const implicit = path.resolve(cwd, DEFAULT_CONFIG_FILE);
  return fs.existsSync(implicit) ? implicit : null;
}

function readConfigFile(file: string): ConfigFile {
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, "utf8")) ?? {};
  } catch (error) {
    throw new ConfigError(`Cannot read config file ${file}: ${(error as Error).message}`);
  }
  const result = configFileSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`Invalid config file ${file}: ${describeIssues(result.error)}`);
  return result.data;
}

/** `models.gpt-4o.base_url: Invalid URL; port: …` — each issue with its key path. */
function describeIssues(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.map(String).join(".");
      const unknown = issue.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : "";
      return `${key || "(top level)"}: ${issue.message}${unknown}`;
    })
    .join("; ");
}

/** A positive number (an integer when `integer`) from an environment variable. @throws ConfigError naming the variable */
function parsePositive(value: string, name: string, integer: boolean): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number))) {
    throw new ConfigError(`${name} must be a positive ${integer ? "integer" : "number"}, got '${value}'`);
  }
  return number;
}

function parsePort(value: string, name: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`${name} must be a port number, got '${value}'`);
  return port;
}

/** The directory relative paths of deployments resolve against: the config file's, else the working directory. */
export function configBaseDir(config: Pick<RelayConfig, "configPath">, cwd: string = process.cwd()): string {
  return config.configPath ? path.dirname(config.configPath) : cwd;
}
