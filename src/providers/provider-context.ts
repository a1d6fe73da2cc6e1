/** Builds the {@link ProviderContext} of a running proxy or library client. */
import type { Logger } from "pino";
import { configBaseDir, type RelayConfig } from "../config/load.js";
import type { ProviderContext } from "./types.js";

/**
 * The context every provider of `config` gets.
 * @param now the clock discovered facts expire by (ms); absent: `performance.now()`
 */
export function providerContext(
  config: RelayConfig,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  now?: () => number,
): ProviderContext {
  return { env, logger, debug: config.debug, baseDir: configBaseDir(config), ...(now ? { now } : {}) };
}
