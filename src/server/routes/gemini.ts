/**
 * The Gemini API inbound (https://ai.google.dev/api/generate-content).
 * Groundwork: filled in by the Gemini inbound work (issue 20).
 */
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

/** Registers the Gemini API's `/v1beta/*` routes. */
export function registerGemini(app: FastifyInstance, ctx: ServerContext): void {
  void app;
  void ctx;
}
