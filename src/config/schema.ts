/**
 * The configuration file (`llm-relay.yaml`), validated with zod.
 * See the README's config reference for every key.
 */
import { DEPLOYMENT_PROTOCOLS } from "../protocol/inbound.js";
import { z } from "zod";
import { PROVIDER_KINDS, type ProviderKind } from "../providers/kinds.js";
import { NO_TOOL_CONVENTION, TOOL_CONVENTION_NAMES } from "../prompt-formats/tools/names.js";

/** Provider kinds this build serves: derived from the provider modules (`src/providers/kinds.ts`, checked against `src/providers/modules.ts`). */
export { PROVIDER_KINDS, type ProviderKind } from "../providers/kinds.js";

/** How one of a model's deployments is picked for a request. */
export const ROUTING_STRATEGIES = ["simple-shuffle", "least-busy", "latency-based"] as const;
/** A routing strategy. */
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

const positiveMs = z.number().int().positive();

/** The keys of one deployment (where and how a model is served). */
const deploymentShape = {
  /** Which provider module serves it. */
  provider: z.enum(PROVIDER_KINDS),
  /** Base URL of the backend. OpenAI-compatible APIs: up to and including `/v1`; native local servers (Ollama, llama.cpp, KoboldCpp, text-generation-webui): the server's root. */
  base_url: z.url().optional(),
  /** Name of the environment variable holding the upstream API key (the key itself never goes in the file). */
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
    .optional(),
  /** The model name sent upstream; for a `prefix/*` pattern, the part after the prefix is used instead. */
  model: z.string().min(1).optional(),
  /** Default for `first_token_timeout_ms` and `idle_timeout_ms`, in ms. */
  timeout_ms: positiveMs.default(600_000),
  /** Time allowed to open the TCP/TLS connection, in ms. */
  connect_timeout_ms: positiveMs.default(10_000),
  /** Time allowed until the upstream's first byte (headers), in ms; defaults to `timeout_ms`. */
  first_token_timeout_ms: positiveMs.optional(),
  /** Time allowed between two chunks of a stream, in ms; defaults to `timeout_ms`. */
  idle_timeout_ms: positiveMs.optional(),
  /** Time allowed for the whole upstream call, in ms; no limit when unset. */
  total_timeout_ms: positiveMs.optional(),
  /** Context window of the model, in tokens; discovered from the backend (or the catalog) when unset. */
  context_window: z.number().int().positive().optional(),
  /** How long a discovered context window (and chat template) is trusted before the backend is asked again, in ms; default 60 000. Dropped at once after a connection failure or the backend's own context error. */
  context_window_ttl_ms: positiveMs.optional(),
  /** Largest completion, in tokens; the default `max_tokens` where the backend needs one (Anthropic). */
  max_output_tokens: z.number().int().positive().optional(),
  /** USD per million prompt tokens (e.g. 2.5); the catalog's price when unset; 0 for a free upstream. */
  input_cost_per_mtok: z.number().nonnegative().optional(),
  /** USD per million completion tokens; the catalog's price when unset. */
  output_cost_per_mtok: z.number().nonnegative().optional(),
  /** USD per million prompt tokens read from the upstream's prompt cache; the catalog's, else the input price, when unset. */
  cached_input_cost_per_mtok: z.number().nonnegative().optional(),
  /** Whether to add `stream_options.include_usage` to streamed requests (turn off for upstreams that reject it). */
  stream_usage: z.boolean().default(true),
  /** Share of traffic under `simple-shuffle`, relative to the model's other deployments. */
  weight: z.number().positive().default(1),
  /** Raw-completion backends: a named prompt format (`chatml`, `llama3`, …), `jinja:<file>` or `auto` (the model's own template). */
  prompt_format: z.string().min(1).optional(),
  /** Raw-completion backends: the tool convention to offer tools and read calls with, over the format's own; `none` turns tool rendering off. */
  tool_convention: z
    .enum([...TOOL_CONVENTION_NAMES, NO_TOOL_CONVENTION], {
      error: `must be a tool convention (${TOOL_CONVENTION_NAMES.join(", ")}) or ${NO_TOOL_CONVENTION}`,
    })
    .optional(),
  /** `webui` and `lmstudio`: `legacy` uses the older raw-completion endpoint with a prompt format. */
  mode: z.enum(["chat", "legacy"]).optional(),
  /** `local`: path of the GGUF file (relative to the config file). */
  model_path: z.string().min(1).optional(),
  /** `local`: CPU threads for generation; defaults to the number of cores. */
  threads: z.number().int().positive().optional(),
  /**
   * The inbound protocols the upstream speaks natively (`chat`, `messages`, `responses`): a request in one of them
   * goes through as the client's own bytes; any other is translated to chat. Default: the provider's own (see README).
   */
  protocols: z.array(z.enum(DEPLOYMENT_PROTOCOLS)).min(1).optional(),
  /** Provider-specific request fields merged into every upstream request (e.g. Ollama `options`). */
  extra_body: z.record(z.string(), z.unknown()).optional(),
};

/** One deployment: where and how a model name is served. */
export const deploymentSchema = z.strictObject(deploymentShape);

/** Per-model routing keys. */
const routingShape = {
  /** How to pick among `deployments`; defaults to `routing.strategy`. */
  routing_strategy: z.enum(ROUTING_STRATEGIES).optional(),
  /** Other model names tried in order when every attempt on this one failed (429, 5xx, timeout, connection error). */
  fallbacks: z.array(z.string().min(1)).default([]),
  /** Other model names tried when the prompt is over this model's context window. */
  context_window_fallbacks: z.array(z.string().min(1)).default([]),
  /** Retries on this model (after the first attempt) before its fallbacks; defaults to `routing.num_retries`. */
  num_retries: z.number().int().nonnegative().optional(),
};

/**
 * A model entry: either one deployment written inline (`provider: …`), or
 * several under `deployments:`; both may carry the routing keys.
 */
export const modelEntrySchema = z
  .strictObject({
    ...deploymentShape,
    provider: deploymentShape.provider.optional(),
    deployments: z.array(deploymentSchema).min(1).optional(),
    ...routingShape,
  })
  .superRefine((entry, ctx) => {
    if ((entry.provider === undefined) === (entry.deployments === undefined)) {
      ctx.addIssue({ code: "custom", message: "give either provider (one deployment) or deployments (a list)" });
    }
  });

/** Router-wide settings (LiteLLM's `router_settings`). */
export const routingSchema = z.strictObject({
  /** Default strategy for models with several deployments. */
  strategy: z.enum(ROUTING_STRATEGIES).default("simple-shuffle"),
  /** Default retries per model after the first attempt. */
  num_retries: z.number().int().nonnegative().default(0),
  /** First retry delay, in ms; doubles on each retry, with full jitter. */
  retry_base_ms: z.number().int().nonnegative().default(250),
  /** Longest wait between two attempts (including a `Retry-After`), in ms. */
  retry_max_ms: z.number().int().nonnegative().default(10_000),
  /** Failures within `fail_window_ms` that put a deployment in cooldown. */
  allowed_fails: z.number().int().positive().default(3),
  /** Window over which failures are counted, in ms. */
  fail_window_ms: positiveMs.default(60_000),
  /** How long a failing deployment is left out, in ms. */
  cooldown_ms: z.number().int().nonnegative().default(30_000),
});

/** The whole config file. */
export const configFileSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  /** Path of the SQLite logs.db. */
  db: z.string().min(1).optional(),
  /** PostgreSQL URL (`postgres://user:pass@host:5432/db`): record there instead of the SQLite logs.db (env DATABASE_URL, LLM_RELAY_DATABASE_URL). */
  database_url: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  /** Redis URL (`redis://host:6379`): rate limits are counted there, shared by every proxy using it (env LLM_RELAY_REDIS_URL, REDIS_URL). Unset: in memory. */
  redis_url: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .optional(),
  /** API keys on `/v1/*`: `auto` (required once any key exists), `required` (always), `off` (never checked). */
  auth: z.enum(["auto", "required", "off"]).default("auto"),
  /** How long an `Idempotency-Key`'s answer is kept for replays, in ms (default 24 h). */
  idempotency_ttl_ms: z.number().int().positive().default(86_400_000),
  /** Tenant name → its budget, shared by all its keys (each key may also have its own, set by `keys create`). */
  tenants: z
    .record(
      z.string().min(1),
      z.strictObject({
        /** USD the tenant may spend per period. */
        budget_usd: z.number().nonnegative(),
        /** The period, as `30d`, `12h`, `90m`; unset: no period (the budget is for all time). */
        budget_period: z
          .string()
          .regex(/^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|w)\s*$/i, "must be a duration such as 30d, 12h or 90m")
          .optional(),
      }),
    )
    .default({}),
  /** Model name used for every request whose model matches no deployment; null disables it (unknown names get 404). */
  default_model: z.string().min(1).nullable().optional(),
  /** Largest accepted request body, in MB. */
  body_limit_mb: z.number().positive().default(20),
  /** Deepest nesting of `[`/`{` accepted in a JSON request body, in levels (default 64; env LLM_RELAY_MAX_JSON_DEPTH). */
  max_json_depth: z.number().int().positive().optional(),
  /** Time a request body may take to arrive in full, in ms (default 30 000; env LLM_RELAY_BODY_TIMEOUT_MS); then 408. */
  body_timeout_ms: z.number().int().positive().optional(),
  /** Request-body MB held at once across all requests (default 64; env LLM_RELAY_MAX_BODY_MB_IN_FLIGHT); past it, 503 `server_busy`. */
  max_body_mb_in_flight: z.number().positive().optional(),
  /** Serve on a non-loopback address although no request needs a key (env LLM_RELAY_ALLOW_UNAUTHENTICATED=1, flag --allow-unauthenticated). */
  allow_unauthenticated: z.boolean().default(false),
  /** Serve a model with no price (see `input_cost_per_mtok`) to a key or tenant with a USD budget; false: 403 `model_not_priced`. */
  allow_unpriced: z.boolean().default(false),
  /**
   * Browser origins allowed to call the public API (`http://localhost:5173`, or `"*"` for any): CORS preflights answered
   * and `access-control-*` headers sent for them. Empty (the default): no CORS header at all.
   */
  cors_origins: z
    .array(
      z
        .string()
        .regex(/^(\*|[a-z][a-z0-9+.-]*:\/\/[^/\s?#]+)$/i, "must be an origin (scheme://host[:port], no path) or *"),
    )
    .default([]),
  /** Whether exchanges are recorded into the database (turn off only to measure the proxy without it). */
  record: z.boolean().default(true),
  /** Serve the conversation browser at `/ui` (env LLM_RELAY_UI=0 turns it off). */
  ui: z.boolean().default(true),
  /** pino log level. */
  log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Log each rendered prompt and raw backend payload (secrets removed). */
  debug: z.boolean().default(false),
  /** How long a graceful stop waits for in-flight exchanges before cancelling them, in ms. */
  shutdown_grace_ms: z.number().int().nonnegative().default(10_000),
  /** Model name (or `prefix/*` pattern) → one deployment or several. */
  models: z.record(z.string().min(1), modelEntrySchema).default({}),
  /** Alias → model name. */
  aliases: z.record(z.string().min(1), z.string().min(1)).default({}),
  /** Retry, fallback, cooldown and balancing settings. */
  routing: routingSchema.default(routingSchema.parse({})),
  /** Preset name (`openai`, `groq`, `anthropic`, …) → turn it on, optionally with another key variable or base URL. */
  presets: z
    .record(
      z.string().min(1),
      z
        .strictObject({
          api_key_env: deploymentShape.api_key_env,
          base_url: deploymentShape.base_url,
        })
        .nullable()
        .transform((value) => value ?? {}),
    )
    .default({}),
});

/** A deployment after defaults were applied. */
export type Deployment = z.infer<typeof deploymentSchema>;
/** A model entry as written in the file, after defaults. */
export type ModelEntry = z.infer<typeof modelEntrySchema>;
/** Router-wide settings after defaults. */
export type RoutingSettings = z.infer<typeof routingSchema>;
/** The config file after defaults were applied. */
export type ConfigFile = z.infer<typeof configFileSchema>;

/** A model name (or pattern) with its deployments and routing, as the router uses it. */
export interface ModelGroup {
  /** The config key (model name or `prefix/*`). */
  name: string;
  /** One or more; each request goes to one of them (see `strategy`). */
  deployments: Deployment[];
  strategy: RoutingStrategy;
  fallbacks: string[];
  contextWindowFallbacks: string[];
  /** Retries after the first attempt. */
  numRetries: number;
}

/** The defaults of a deployment, for code that builds one (presets, the built-in `echo`). */
export function deploymentDefaults(provider: ProviderKind): Deployment {
  return deploymentSchema.parse({ provider });
}

/**
 * Turns a model entry (or a bare deployment) into a group.
 * @param routing the router-wide defaults
 */
export function toModelGroup(name: string, entry: Deployment | ModelEntry, routing: RoutingSettings): ModelGroup {
  if (!("fallbacks" in entry)) {
    return {
      name,
      deployments: [entry],
      strategy: routing.strategy,
      fallbacks: [],
      contextWindowFallbacks: [],
      numRetries: routing.num_retries,
    };
  }
  const { deployments, routing_strategy, fallbacks, context_window_fallbacks, num_retries, ...inline } = entry;
  return {
    name,
    deployments: deployments ?? [deploymentSchema.parse(inline)],
    strategy: routing_strategy ?? routing.strategy,
    fallbacks,
    contextWindowFallbacks: context_window_fallbacks,
    numRetries: num_retries ?? routing.num_retries,
  };
}

/** Routing defaults when no config file gave any. */
export const DEFAULT_ROUTING: RoutingSettings = routingSchema.parse({});

/**
 * A group as is, or a bare deployment wrapped into a group of one (for
 * code and tests that configure models programmatically).
 */
export function asModelGroup(
  name: string,
  entry: Deployment | ModelGroup,
  routing: RoutingSettings = DEFAULT_ROUTING,
): ModelGroup {
  return "deployments" in entry && Array.isArray(entry.deployments)
    ? entry
    : toModelGroup(name, entry as Deployment, routing);
}

/** Model name → group or bare deployment, as programmatic configs may give them. */
export type ModelsInput = Record<string, Deployment | ModelGroup>;

/** Normalises {@link ModelsInput} into groups. */
export function asModelGroups(
  models: ModelsInput,
  routing: RoutingSettings = DEFAULT_ROUTING,
): Record<string, ModelGroup> {
  const out: Record<string, ModelGroup> = {};
  for (const [name, entry] of Object.entries(models)) out[name] = asModelGroup(name, entry, routing);
  return out;
}
