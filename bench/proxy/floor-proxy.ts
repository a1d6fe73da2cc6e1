/**
 * The floor of the proxy benchmark: the thinnest proxy Node can run, with
 * the same transport as llm-relay (node:http in, undici `Pool.request` out,
 * keep-alive) and nothing else — no validation, routing, admission,
 * metrics, recording or SSE parsing. It reads the request body and parses
 * it (any proxy must read `model` and `stream`), sends the bytes upstream
 * unchanged and forwards the answer's bytes as they arrive.
 *
 * `npm run bench:proxy -- --proxy floor` runs the recording-off scenarios
 * through it instead of llm-relay: what the machine, Node and the pinned
 * layout cost a proxy before it does any work of its own. Not a product:
 * it forwards only POST /v1/chat/completions and answers GET /health in the
 * shape the benchmark reads.
 *
 * Usage (as the benchmark starts it, in the place of `llm-relay serve`):
 * `floor-proxy.ts serve --config <llm-relay.yaml with one base_url> --port N [--db ignored]`
 */
import http from "node:http";
import { floorUpstream } from "./floor-upstream.js";

const { port, pool, path } = floorUpstream("floor-proxy");
let inFlight = 0;

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/health") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ status: "ok", recorder: { queued: 0, written: 0, failed_writes: 0 }, in_flight: inFlight }),
    );
    return;
  }
  if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
    res.writeHead(404).end();
    return;
  }
  inFlight += 1;
  const parts: Buffer[] = [];
  req.on("data", (part: Buffer) => parts.push(part));
  req.on("end", () => {
    forward(Buffer.concat(parts), res)
      .finally(() => {
        inFlight -= 1;
      })
      .catch((error: unknown) => console.error("floor-proxy: forwarding failed:", error));
  });
});

async function forward(body: Buffer, res: http.ServerResponse): Promise<void> {
  try {
    const { stream } = JSON.parse(body.toString("utf8")) as { stream?: boolean };
    const answer = await pool.request({ path, method: "POST", headers: { "content-type": "application/json" }, body });
    res.writeHead(answer.statusCode, { "content-type": String(answer.headers["content-type"] ?? "application/json") });
    if (stream) {
      for await (const bytes of answer.body) res.write(bytes);
      res.end();
    } else res.end(Buffer.from(await answer.body.arrayBuffer()));
  } catch (error) {
    if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ error: { message: String(error), type: "server_error", param: null, code: "floor_proxy" } }),
    );
  }
}

server.listen(port, "127.0.0.1");
process.on("SIGINT", () => {
  server.close();
  void pool.close().finally(() => process.exit(0));
});
