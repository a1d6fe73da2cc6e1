/**
 * `llm-relay models`: every model name the proxy would route with the
 * current config and environment (the same list as `GET /v1/models`), as a
 * table or JSON: provider, context window, max output, $ per million input
 * and output tokens, tools and vision support.
 */
import { renderTable } from "./text-table.js";
import { routableModels, type RoutableModel } from "../catalog/routable-models.js";
import { ConfigError, loadConfig } from "../config/load.js";
import { Router } from "../routing/router.js";

/** Flags of `models`. */
export interface ModelsFlags {
  config?: string;
  json?: boolean;
}

/** Prints the routable models; exits with 1 on a config error. */
export function runModels(flags: ModelsFlags): void {
  let models: RoutableModel[];
  try {
    const config = loadConfig(flags.config ? { configPath: flags.config } : {});
    models = routableModels(new Router({ models: config.models, aliases: config.aliases, defaultModel: null }));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`llm-relay: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  process.stdout.write(flags.json ? `${JSON.stringify(models, null, 2)}\n` : formatModelsTable(models));
}

/** One line per model, in routing order; `-` where the catalog knows nothing. */
export function formatModelsTable(models: readonly RoutableModel[]): string {
  const header = ["model", "provider", "context", "max output", "$/M in", "$/M out", "tools", "vision"];
  const lines = models.map((m) => [
    m.id,
    m.provider,
    m.contextWindow === null ? "-" : String(m.contextWindow),
    m.maxOutputTokens === null ? "-" : String(m.maxOutputTokens),
    m.inputUsdPerMTok === null ? "-" : String(m.inputUsdPerMTok),
    m.outputUsdPerMTok === null ? "-" : String(m.outputUsdPerMTok),
    yesNo(m.supportsTools),
    yesNo(m.supportsVision),
  ]);
  return renderTable(header, lines);
}

function yesNo(value: boolean | null): string {
  return value === null ? "-" : value ? "yes" : "no";
}
