/**
 * A fake KoboldCpp (1.76): a real node:http server on 127.0.0.1 that
 * answers the way the capture ../shared/fixtures/protocols/koboldcpp.txt
 * shows, byte for byte where it matters. Every answer is HTTP/1.0 (the
 * status line and headers of the capture, Python `json.dumps` bodies) and
 * the server closes the connection after it; the generate stream has no
 * Content-Length, `event: message` events whose `finish_reason` is the
 * string `"null"` until the last one, and ends when the connection closes.
 * Errors: 500 `bad_input` for bad JSON, 503 "Server is busy" (koboldcpp.py's
 * body) when busy. Its quirks: a generation ended by a stop string reports
 * `finish_reason: "length"` (`/api/extra/perf` says `stop_reason: 2`), and
 * `/v1/chat/completions` reports the fixed usage 100/100/200 and streams no
 * usage chunk; `/api/extra/version` names the server `KoboldCpp`.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { fakeTokenize, fieldText } from "./fake-tokenizer.js";
import { firstLine, readCapture, section } from "./protocol-capture.js";
import { pythonJson } from "./python-json.js";
import { handled } from "./async-handler.js";

const capture = readCapture("koboldcpp.txt");
const JSON_HEADERS = section(capture, "POST /api/v1/generate").headers;
const STREAM_HEADERS = section(capture, "POST /api/extra/generate/stream (SSE").headers;
const ERROR_HEADERS = section(capture, "Error: POST /api/v1/generate bad JSON").headers;
const NOT_FOUND = section(capture, "Error: GET unknown path");
const BAD_INPUT = firstLine(section(capture, "Error: POST /api/v1/generate bad JSON"), "{");
const MODEL = firstLine(section(capture, "GET /api/v1/model"), "{");
/** The captured non-streamed answer: `{"results": [{"text": …, "finish_reason": "length"}]}`. */
const CAPTURED_RESULT = (
  JSON.parse(firstLine(section(capture, "POST /api/v1/generate"), "{")) as {
    results: { text: string; finish_reason: string }[];
  }
).results[0]!;
const VERSION = firstLine(section(capture, "GET /api/extra/version"), "{");
/** The captured `/api/extra/perf` (its `stop_reason` is replaced by the last generation's). */
const PERF = JSON.parse(firstLine(section(capture, "GET /api/extra/perf"), "{")) as Record<string, unknown>;
const V1_JSON_HEADERS = section(capture, "POST /v1/chat/completions stream=false").headers;
const V1_STREAM_HEADERS = section(capture, "POST /v1/chat/completions stream=true").headers;
/** The captured `/v1/chat/completions` answer, whose `usage` is always 100/100/200. */
const V1_TEMPLATE = JSON.parse(firstLine(section(capture, "POST /v1/chat/completions stream=false"), "{")) as Record<
  string,
  unknown
>;
/** The captured `/v1` stream chunk (id `koboldcpp`, `delta.role` on every chunk). */
const V1_CHUNK = JSON.parse(
  firstLine(section(capture, "POST /v1/chat/completions stream=true"), "data: ").slice("data: ".length),
) as Record<string, unknown>;
/** KoboldCpp's fixed `/v1` usage. */
export const KOBOLD_FAKE_USAGE = V1_TEMPLATE.usage as {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
};

/**
 * The prompt koboldcpp.py builds from `/v1/chat/completions` messages with its default chat adapter
 * (no `--chatcompletionsadapter`): each message after its role's start (`\n### Instruction:\n` for
 * system and user, `\n### Response:\n` for assistant), then the assistant's start.
 */
export function koboldDefaultAdapterPrompt(messages: { role: string; content: string }[]): string {
  const start = (role: string) => (role === "assistant" ? "\n### Response:\n" : "\n### Instruction:\n");
  return messages.map((m) => start(m.role) + m.content).join("") + "\n### Response:\n";
}

/** koboldcpp.py's answer when another generation holds the model (not in the capture; its README quotes it). */
export const BUSY_BODY = pythonJson({
  detail: { msg: "Server is busy; please try again later.", type: "service_unavailable" },
});

/** The captured answer text of `POST /api/v1/generate`. */
export const CAPTURED_TEXT = CAPTURED_RESULT.text;
/** Whole tokens of the captured long stream, one event each (its first event is cut short in the capture, so left out). */
export const CAPTURED_STREAM_PIECES = [
  "rest",
  " it was very special. But sometimes",
  ", these popcing, and there was a pic",
];

/** How the fake behaves. */
export interface KoboldFakeOptions {
  /** Answer text of `/api/v1/generate`. */
  text: string;
  /** `token`s of the stream's events; the last one carries the finish reason. */
  pieces: string[];
  /** The final `finish_reason` (KoboldCpp 1.76: `stop` for EOS, `length` otherwise). */
  finishReason: "length" | "stop";
  /** `true_max_context_length`. */
  maxContext: number;
  /** Whether the last stream event ends with its blank line (the capture of this endpoint has it; KoboldCpp's `/v1` streams end without one). */
  finalBlankLine: boolean;
  /** The stream's connection is closed after this many events, before the final one. */
  closeAfterEvents: number | null;
  /** Generate endpoints answer 503 busy. */
  busy: boolean;
  /** Generate endpoints answer this status and body. */
  generateError: { status: number; body: string } | null;
  /**
   * The generation ended on this stop string: KoboldCpp 1.76 still reports `finish_reason: "length"`, and
   * `/api/extra/perf` says `stop_reason: 2`; with `trim_stop: false` the answer ends with the string.
   */
  stoppedAt: string | null;
  /** `/api/extra/perf` answers 404 (an old server), as if it did not exist. */
  noPerf: boolean;
  /** `/api/extra/tokencount` answers 404, as if it did not exist. */
  noTokenCount: boolean;
  /** Ignore `trim_stop` (servers before it existed keep the stop string in the answer). */
  ignoresTrimStop: boolean;
}

/** One request the fake received. */
export interface KoboldReceived {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

/** A running fake. */
export interface FakeKoboldCpp {
  /** `http://127.0.0.1:PORT` (the server root, as `base_url`). */
  url: string;
  requests: KoboldReceived[];
  /** Requests to the two generate endpoints, oldest first. */
  generations(): KoboldReceived[];
  /** Changes the behaviour of the following requests (unset fields keep their defaults). */
  set(options: Partial<KoboldFakeOptions>): void;
  close(): Promise<void>;
}

const DEFAULTS: KoboldFakeOptions = {
  text: CAPTURED_TEXT,
  pieces: CAPTURED_STREAM_PIECES,
  finishReason: "length",
  maxContext: 2048,
  finalBlankLine: true,
  closeAfterEvents: null,
  busy: false,
  generateError: null,
  stoppedAt: null,
  noPerf: false,
  noTokenCount: false,
  ignoresTrimStop: false,
};

const GENERATE_PATHS = new Set(["/api/v1/generate", "/api/extra/generate/stream"]);

/** Starts the fake on an ephemeral loopback port. */
export async function startFakeKoboldCpp(initial: Partial<KoboldFakeOptions> = {}): Promise<FakeKoboldCpp> {
  let options: KoboldFakeOptions = { ...DEFAULTS, ...initial };
  const requests: KoboldReceived[] = [];

  /** `stop_reason` of the last generation (koboldcpp.py's enum: -1 none yet, 0 out of tokens, 1 EOS, 2 stop sequence). */
  let lastStopReason = -1;
  const generated = (): void => {
    lastStopReason = options.stoppedAt !== null ? 2 : options.finishReason === "stop" ? 1 : 0;
  };

  const server = http.createServer(
    handled(async (req) => {
      let raw = "";
      for await (const piece of req) raw += piece;
      const path = (req.url ?? "/").split("?")[0]!.replace(/\/+$/, "");
      let body: Record<string, unknown> | undefined;
      let badJson = false;
      if (req.method === "POST") {
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          badJson = true;
        }
      }
      requests.push({ method: req.method ?? "GET", path, headers: req.headers, body });
      // The answer is written on the socket itself: Node's ServerResponse cannot speak HTTP/1.0.
      const socket = req.socket;
      const json = (text: string) => writeResponse(socket, "200 OK", JSON_HEADERS, text, true);

      if (req.method === "GET" && path === "/api/v1/model") return json(MODEL);
      if (req.method === "GET" && path === "/api/extra/true_max_context_length")
        return json(pythonJson({ value: options.maxContext }));
      if (req.method === "GET" && path === "/api/extra/version") return json(VERSION);
      if (req.method === "GET" && path === "/api/extra/perf" && !options.noPerf)
        return json(pythonJson({ ...PERF, stop_reason: lastStopReason }));
      if (req.method === "POST" && path === "/v1/chat/completions") {
        if (badJson) return writeResponse(socket, "500 Internal Server Error", ERROR_HEADERS, BAD_INPUT, false);
        generated();
        const text = options.pieces.join("");
        if (body?.stream !== true) {
          const answer = {
            ...V1_TEMPLATE,
            created: Math.floor(Date.now() / 1000),
            choices: [
              { index: 0, message: { role: "assistant", content: text, tool_calls: [] }, finish_reason: "length" },
            ],
          };
          return writeResponse(socket, "200 OK", V1_JSON_HEADERS, pythonJson(answer), true);
        }
        return v1Stream(socket, options.pieces);
      }
      if (req.method === "POST" && path === "/api/extra/tokencount" && !options.noTokenCount) {
        if (badJson) return writeResponse(socket, "400 Bad Request", JSON_HEADERS, pythonJson({ value: -1 }), true);
        const ids = fakeTokenize(fieldText(body?.prompt), body?.special !== false);
        return json(pythonJson({ value: ids.length, ids }));
      }
      if (req.method === "POST" && GENERATE_PATHS.has(path)) {
        if (options.busy) return writeResponse(socket, "503 Service Unavailable", ERROR_HEADERS, BUSY_BODY, false);
        if (badJson) return writeResponse(socket, "500 Internal Server Error", ERROR_HEADERS, BAD_INPUT, false);
        if (options.generateError)
          return writeResponse(
            socket,
            `${options.generateError.status} Error`,
            ERROR_HEADERS,
            options.generateError.body,
            false,
          );
        generated();
        const finish = options.stoppedAt !== null ? "length" : options.finishReason;
        const kept =
          options.stoppedAt !== null && (body?.trim_stop !== true || options.ignoresTrimStop) ? options.stoppedAt : "";
        if (path === "/api/v1/generate")
          return json(pythonJson({ results: [{ text: options.text + kept, finish_reason: finish }] }));
        return stream(socket, {
          ...options,
          finishReason: finish,
          pieces: kept ? [...options.pieces.slice(0, -1), options.pieces.at(-1)! + kept] : options.pieces,
        });
      }
      writeResponse(socket, "404 Not Found", NOT_FOUND.headers, NOT_FOUND.bodyLines[0]!, false);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    generations: () => requests.filter((r) => GENERATE_PATHS.has(r.path)),
    set(next) {
      options = { ...DEFAULTS, ...next };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes an HTTP/1.0 answer with the captured headers (fresh Date and length) and closes the connection. */
function writeResponse(
  socket: Socket,
  status: string,
  headers: [string, string][],
  body: string,
  contentLength: boolean,
): void {
  socket.write(head(status, headers, contentLength ? Buffer.byteLength(body) : null));
  socket.end(body);
}

function head(status: string, headers: [string, string][], length: number | null): string {
  const lines = headers
    .filter(([name]) => name.toLowerCase() !== "content-length")
    .map(([name, value]) => `${name}: ${name === "Date" ? new Date().toUTCString() : value}`);
  if (length !== null) lines.splice(2, 0, `content-length: ${length}`);
  return `HTTP/1.0 ${status}\r\n${lines.join("\r\n")}\r\n\r\n`;
}

/** The SSE stream: headers without a length, one `event: message` per piece, then the server closes the connection. */
function stream(socket: Socket, options: KoboldFakeOptions): void {
  socket.write(head("200 OK", STREAM_HEADERS, null));
  const last = options.pieces.length - 1;
  for (const [i, token] of options.pieces.entries()) {
    if (options.closeAfterEvents !== null && i >= options.closeAfterEvents) break;
    const final = i === last;
    const event = `event: message\ndata: ${pythonJson({ token, finish_reason: final ? options.finishReason : "null" })}\n`;
    socket.write(final && !options.finalBlankLine ? event : `${event}\n`);
  }
  socket.end();
}

/**
 * KoboldCpp's `/v1/chat/completions` stream: one chunk per piece, every one with `delta.role`, id `koboldcpp`,
 * `finish_reason` the string `"null"` until the last (`"length"`); no usage chunk even when asked; `data: [DONE]`
 * without its blank line, then the server closes the connection.
 */
function v1Stream(socket: Socket, pieces: string[]): void {
  socket.write(head("200 OK", V1_STREAM_HEADERS, null));
  const choice = (V1_CHUNK.choices as Record<string, unknown>[])[0]!;
  for (const [i, content] of pieces.entries()) {
    const chunk = {
      ...V1_CHUNK,
      choices: [
        {
          ...choice,
          finish_reason: i === pieces.length - 1 ? "length" : "null",
          delta: { role: "assistant", content },
        },
      ],
    };
    socket.write(`data: ${pythonJson(chunk)}\n\n`);
  }
  socket.end("data: [DONE]");
}
