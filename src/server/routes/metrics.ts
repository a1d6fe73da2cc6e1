/** `GET /metrics`: Prometheus text exposition of the proxy's metrics. */
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

/** Registers the route. */
export function registerMetrics(app: FastifyInstance, ctx: ServerContext): void {
  app.get("/metrics", async (_request, reply) => {
    const { contentType, body } = await ctx.metrics.render();
    reply.header("content-type", contentType);
    // prom-client 15 writes NaN as "Nan" (e.g. the event-loop-lag gauges right after a reset);
    // the exposition format spells it "NaN".
    return body.replace(/ Nan$/gm, " NaN");
  });
}
