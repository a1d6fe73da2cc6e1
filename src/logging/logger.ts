/**
 * The pino logger: JSON lines on stdout. Request bodies and headers are
 * never logged; `authorization`-like fields are redacted if they ever are.
 */
import { pino, type Logger, type LevelWithSilent } from "pino";

/** Creates the process logger at `level`. */
export function createLogger(level: LevelWithSilent = "info"): Logger {
  return pino({
    level,
    base: { service: "llm-relay" },
    redact: { paths: ["*.authorization", "*.headers.authorization", "*.api_key", "*.apiKey"], censor: "[redacted]" },
  });
}
