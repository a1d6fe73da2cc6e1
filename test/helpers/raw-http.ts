/**
 * HTTP/1.1 over a raw `net` socket, for requests `fetch`/undici refuse to
 * send (bad `Content-Length`, missing `Host`, invalid bytes, truncated or
 * trickled bodies, huge headers): the bytes go out as given and the answer
 * is parsed by hand. Every wait is bounded.
 */
import net from "node:net";

/** What came back on the socket. */
export interface RawAnswer {
  /** The status of the first response, or null when the server closed without one. */
  status: number | null;
  /** Its headers, names lower-cased (the last value of a repeated one). */
  headers: Record<string, string>;
  /** Its body (chunked encoding removed), as UTF-8. */
  body: string;
  /** Whether the server closed the connection (within `closeWaitMs` after the response, or instead of one). */
  closed: boolean;
  /** ms from the first byte written to the response (or the close). */
  ms: number;
}

/** Options of {@link rawRequest}. */
export interface RawRequestOptions {
  /** Half-close the socket after the last write (the client says it will send nothing more). */
  end?: boolean;
  /** Pieces written after the first, each after `delayMs` (a trickled body). Writing stops once an answer came. */
  trickle?: { pieces: (string | Buffer)[]; delayMs: number };
  /** Longest wait for the answer, in ms (default 10 000); then the socket is destroyed and the answer is what came. */
  timeoutMs?: number;
  /** After a complete response, how long to wait for the server to close the connection, in ms (default 0: do not wait). */
  closeWaitMs?: number;
  /**
   * Read nothing until the first bytes are written out (or the write failed), as a busy client would:
   * an answer the server sent before resetting the connection is then lost, as it can be in the field.
   */
  readAfterWrite?: boolean;
  /** The request is a HEAD: the response has no body, whatever its Content-Length says. */
  head?: boolean;
}

/** A request in progress: more bytes may be written while its answer is awaited. */
export interface RawExchange {
  /** Writes more bytes (ignored once the answer came or the socket closed). */
  write(bytes: string | Buffer): void;
  /** Half-closes the socket (the client will send nothing more). */
  end(): void;
  /** Resolves (never rejects) once the response is complete, the server closed, or the timeout passed. */
  answer: Promise<RawAnswer>;
}

/** Writes `bytes` to 127.0.0.1:`port` and starts reading one response; see {@link RawExchange}. */
export function startRawRequest(
  port: number,
  bytes: string | Buffer,
  options: Pick<RawRequestOptions, "timeoutMs" | "closeWaitMs" | "readAfterWrite" | "head"> = {},
): RawExchange {
  const socket = net.connect(port, "127.0.0.1");
  if (options.readAfterWrite) socket.pause();
  let parsed: Omit<RawAnswer, "closed" | "ms"> | null = null;
  const answer = new Promise<RawAnswer>((resolve) => {
    const started = performance.now();
    let received = Buffer.alloc(0);
    let respondedMs = 0;
    let settled = false;
    let closed = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      const result = parsed ?? { status: null, headers: {}, body: "" };
      resolve({ ...result, closed, ms: Math.round((parsed ? respondedMs : performance.now()) - started) });
    };
    socket.on("data", (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (parsed) return;
      parsed = parseResponse(received, false, options.head);
      if (!parsed) return;
      respondedMs = performance.now();
      if (!options.closeWaitMs) finish();
      else timers.push(setTimeout(finish, options.closeWaitMs));
    });
    socket.on("close", () => {
      closed = true;
      if (!parsed && received.length > 0) parsed = parseResponse(received, true, options.head);
      finish();
    });
    socket.on("error", () => {
      // a reset: "close" follows
    });
    timers.push(setTimeout(finish, options.timeoutMs ?? 10_000));
  });
  socket.write(bytes, () => {
    if (options.readAfterWrite) socket.resume();
  });
  return {
    write(piece) {
      if (!parsed && !socket.destroyed && socket.writable) socket.write(piece);
    },
    end() {
      if (!socket.destroyed && socket.writable) socket.end();
    },
    answer,
  };
}

/**
 * Writes `bytes` to 127.0.0.1:`port` and reads one response.
 * Resolves (never rejects) once the response is complete, the server closed, or `timeoutMs` passed.
 */
export function rawRequest(port: number, bytes: string | Buffer, options: RawRequestOptions = {}): Promise<RawAnswer> {
  const exchange = startRawRequest(port, bytes, options);
  const pieces = options.trickle?.pieces ?? [];
  const timers = pieces.map((piece, index) =>
    setTimeout(
      () => {
        exchange.write(piece);
        if (index === pieces.length - 1 && options.end) exchange.end();
      },
      (index + 1) * (options.trickle?.delayMs ?? 0),
    ),
  );
  if (options.end && pieces.length === 0) exchange.end();
  return exchange.answer.finally(() => timers.forEach(clearTimeout));
}

/** The first response in `data` when complete (or, with `atClose`, whatever body came), else null. */
function parseResponse(data: Buffer, atClose = false, head = false): Omit<RawAnswer, "closed" | "ms"> | null {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const [statusLine = "", ...lines] = data.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  if (!Number.isInteger(status)) return null;
  // An interim answer (100 Continue): the real one follows.
  if (status >= 100 && status < 200 && status !== 101) return parseResponse(data.subarray(headEnd + 4), atClose, head);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  if (head) return { status, headers, body: "" };
  const rest = data.subarray(headEnd + 4);
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const body = dechunk(rest);
    if (body === null) return atClose ? { status, headers, body: rest.toString("utf8") } : null;
    return { status, headers, body };
  }
  const length = headers["content-length"] === undefined ? null : Number(headers["content-length"]);
  if (length !== null) {
    if (rest.length < length) return atClose ? { status, headers, body: rest.toString("utf8") } : null;
    return { status, headers, body: rest.subarray(0, length).toString("utf8") };
  }
  // Neither: the body runs to the close (or is empty for statuses without one).
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) return { status, headers, body: "" };
  return atClose ? { status, headers, body: rest.toString("utf8") } : null;
}

/** A complete chunked body decoded, or null while its last chunk has not come. */
function dechunk(data: Buffer): string | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd < 0) return null;
    const size = parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
    if (!Number.isFinite(size)) return null;
    if (size === 0) return Buffer.concat(parts).toString("utf8");
    if (data.length < lineEnd + 2 + size + 2) return null;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** A request's bytes: request line, `Host: 127.0.0.1` first unless `host` is false, the headers given, and the body. */
export function httpRequest(
  method: string,
  target: string,
  headers: [string, string][],
  body: string | Buffer = "",
  host = true,
): Buffer {
  const head = [
    `${method} ${target} HTTP/1.1`,
    ...(host ? ["Host: 127.0.0.1"] : []),
    ...headers.map(([name, value]) => `${name}: ${value}`),
  ];
  return Buffer.concat([
    Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1"),
    typeof body === "string" ? Buffer.from(body, "utf8") : body,
  ]);
}
