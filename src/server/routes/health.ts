/**
 * `GET /health`: the recorder's condition (is every exchange getting
 * written?), how many records wait or were kept for retry, how many writes
 * failed, and the version. 200 when ok, 503 when degraded, with the
 * reasons. It costs nothing: the answer comes from the recorder's own
 * counters, never from a statement or a lock on the database (a lock held
 * by another process, or the worker busy writing, does not slow it down).
 */
import type { FastifyInstance } from "fastify";
import { VERSION } from "../../version.js";
import type { ServerContext } from "../context.js";

/** Registers the route. */
export function registerHealth(app: FastifyInstance, ctx: ServerContext): void {
  app.get("/health", (_request, reply) => {
    const { status, body } = healthAnswer(ctx);
    reply.code(status);
    return reply.send(body);
  });
}

/** The answer of `GET /health` now: 200 when the recorder is ok, else 503, and its JSON body (also the Live page's `health`). */
export function healthAnswer(ctx: ServerContext): { status: number; body: Record<string, unknown> } {
  const recorder = ctx.recorder.health();
  // "Writable" as far as the recorder knows: no records are waiting because the store could not take them.
  const writable = recorder.kept === 0;
  return {
    status: recorder.status === "ok" ? 200 : 503,
    body: {
      status: recorder.status,
      version: VERSION,
      db: ctx.config.databaseUrl
        ? { engine: "postgresql", writable }
        : { engine: "sqlite", path: ctx.config.dbPath, writable },
      recorder: {
        state: recorder.state,
        queued: recorder.queued,
        kept: recorder.kept,
        written: recorder.written,
        failed_writes: recorder.failedWrites,
        last_error: recorder.lastError,
        last_error_at: recorder.lastErrorAt,
      },
      reasons: recorder.reasons,
      in_flight: ctx.inFlight.size,
    },
  };
}
