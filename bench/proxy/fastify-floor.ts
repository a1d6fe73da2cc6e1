/**
 * The floor of bench/proxy/floor-proxy.ts served through Fastify (the
 * framework llm-relay uses) instead of bare node:http: the same work —
 * read and parse the body (Fastify's JSON parser), one undici
 * `Pool.request` upstream, the answer's bytes forwarded as they arrive —
 * with Fastify's routing, request/reply objects and lifecycle, and no hook,
 * validation, routing, admission, metrics or recording of llm-relay's.
 * `npm run bench:instructions -- --scenarios nonstream-c10-fastify` counts
 * it: what the framework adds to the floor before llm-relay does any work.
 * Not a product.
 *
 * Usage (as the benchmarks start it, in the place of `llm-relay serve`):
 * `fastify-floor.ts serve --config <llm-relay.yaml with one base_url> --port N [--db ignored]`
 */
import Fastify from "fastify";
import { floorUpstream } from "./floor-upstream.js";

const { port, pool, path } = floorUpstream("fastify-floor");

const app = Fastify({ logger: false });
app.get("/health", () => ({ status: "ok", recorder: { queued: 0, written: 0, failed_writes: 0 }, in_flight: 0 }));
app.post("/v1/chat/completions", async (request, reply) => {
  const body = request.body as { stream?: boolean };
  const answer = await pool.request({
    path,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const contentType = String(answer.headers["content-type"] ?? "application/json");
  if (body.stream === true) {
    const res = reply.hijack().raw;
    res.writeHead(answer.statusCode, { "content-type": contentType });
    for await (const bytes of answer.body) res.write(bytes);
    res.end();
    return;
  }
  return reply
    .code(answer.statusCode)
    .type(contentType)
    .send(Buffer.from(await answer.body.arrayBuffer()));
});

await app.listen({ host: "127.0.0.1", port });
process.on("SIGINT", () => {
  void app
    .close()
    .then(() => pool.close())
    .finally(() => process.exit(0));
});
