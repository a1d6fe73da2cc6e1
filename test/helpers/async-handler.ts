/**
 * The fake upstreams' request handlers are async (they read the body with `for await`), but
 * `http.createServer` ignores the promise a listener returns: a rejection there would be an
 * unhandled rejection, and the client would wait on an answer that never comes.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

/** An async request handler, as the fakes write them. */
export type AsyncHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Wraps `handler` into a listener for `http.createServer` whose failures are answered: a rejection
 * before anything was sent becomes a 500 whose text body names the error (so the test sees it in the
 * proxy's answer or its record); once the answer has started (headers sent, or bytes written on the
 * socket itself since this request came, as the HTTP/1.0 fakes do) the connection is destroyed, so the client sees a cut
 * answer rather than waiting.
 */
export function handled(handler: AsyncHandler): RequestListener {
  return (req, res) => {
    const writtenBefore = req.socket.bytesWritten;
    handler(req, res).catch((error: unknown) => {
      const started = res.headersSent || req.socket.bytesWritten > writtenBefore || req.socket.writableEnded;
      if (!started && !res.destroyed && !req.socket.destroyed) {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8", connection: "close" });
        res.end(`the fake upstream's handler failed: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      req.socket.destroy();
    });
  };
}
