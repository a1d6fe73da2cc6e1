/**
 * OpenAI's legacy completions inbound (https://platform.openai.com/docs/api-reference/completions).
 * Groundwork: filled in by the legacy completions work (issue 20).
 */
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

/** Registers `POST /v1/completions`. */
export function registerCompletions(app: FastifyInstance, ctx: ServerContext): void {
  void app;
  void ctx;
}
