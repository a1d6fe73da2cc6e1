/**
 * `GET /health`: whether the database accepts writes, how many records
 * wait in the queue, how many writes failed, and the version. 200 when
 * healthy, 503 when the database is not writable.
 */
import type { FastifyInstance } from "fastify";
import { VERSION } from "../../version.js";
import type { ServerContext } from "../context.js";

/** Registers the route. */
export function registerHealth(app: FastifyInstance, ctx: ServerContext): void {
  app.get("/health", async (_request, reply) => {
    const writable = await ctx.store.isWritable();
    reply.code(writable ? 200 : 503);
    return {
      status: writable ? "ok" : "degraded",
      version: VERSION,
      db: ctx.config.databaseUrl ? { engine: "postgresql", writable } : { engine: "sqlite", path: ctx.config.dbPath, writable },
      recorder: { queued: ctx.recorder.queued, written: ctx.recorder.writtenRecords, failed_writes: ctx.recorder.failedWrites },
      in_flight: ctx.inFlight.size,
    };
  });
}
