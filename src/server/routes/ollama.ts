/**
 * Ollama's native API inbound (https://github.com/ollama/ollama/blob/main/docs/api.md).
 * Groundwork: filled in by the Ollama inbound work (issue 20).
 */
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

/** Registers Ollama's `/api/*` routes. */
export function registerOllama(app: FastifyInstance, ctx: ServerContext): void {
  void app;
  void ctx;
}
