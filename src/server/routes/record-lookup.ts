/**
 * How an inbound adapter reads a recorded exchange back while it
 * translates a request (OpenAI Responses' `previous_response_id`): from the
 * record store, after the recorder has written out what it still holds
 * (a client may send the next turn before the last one's batch is written),
 * and only the request's own tenant's.
 */
import type { FastifyRequest } from "fastify";
import type { InboundContext } from "../../protocol/inbound.js";
import { DEFAULT_TENANT } from "../../tenancy/types.js";
import type { ServerContext } from "../context.js";

/** The {@link InboundContext} of one request. */
export function inboundContextOf(ctx: ServerContext, request: FastifyRequest): InboundContext {
  const tenantId = request.tenant?.tenantId ?? DEFAULT_TENANT;
  return {
    lookupExchange: async (id) => {
      const found = await ctx.store.findExchange(id, tenantId);
      if (found) return found;
      // Not written yet? Write out what the recorder holds, then ask once more.
      await ctx.recorder.flush();
      return ctx.store.findExchange(id, tenantId);
    },
  };
}
