/**
 * A fake text-generation-webui: a real node:http server on 127.0.0.1
 * answering with the shapes written down in
 * test/fixtures/protocols/webui/ (read from webui's source; see the README
 * there). Two flavours:
 * - the OpenAI-compatible API: `POST /v1/completions` (compact JSON, or an
 *   SSE stream of `json.dumps` chunks ending with `data: [DONE]`, the usage in
 *   a separate chunk when `stream_options.include_usage` is set, or on the
 *   finish chunk like older builds) and `POST /v1/internal/token-count`;
 * - the legacy blocking API (`legacy: true`): `POST /api/v1/generate`,
 *   `POST /api/v1/token-count`, `GET /api/v1/model`, answered over HTTP/1.0
 *   without Content-Length, closing the connection.
 * Generation follows webui's rules: the answer is cut at `max_tokens`
 * (`max_new_tokens`), and `finish_reason` is `length` when the answer reached
 * it or prompt + answer reached `truncation_length`.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { fakeTokenize, fieldText } from "./fake-tokenizer.js";
import { pythonJson } from "./python-json.js";
import { handled } from "./async-handler.js";
import { omit } from "./omit.js";

const fixtureDir = new URL("../fixtures/protocols/webui/", import.meta.url);
const completions = JSON.parse(fs.readFileSync(new URL("completions.json", fixtureDir), "utf8")) as {
  response: Record<string, unknown> & { choices: Record<string, unknown>[] };
};
const legacy = JSON.parse(fs.readFileSync(new URL("legacy.json", fixtureDir), "utf8")) as {
  model: { response: { result: string } };
};
/** The stream's chunks by role: [start, text, finish, usage-only]. */
const STREAM_TEMPLATES = fs
  .readFileSync(new URL("completions-stream.txt", fixtureDir), "utf8")
  .split("\n")
  .filter((line) => line.startsWith("data: {"))
  .map(
    (line) =>
      JSON.parse(line.slice("data: ".length)) as Record<string, unknown> & { choices: Record<string, unknown>[] },
  );
type Chunk = (typeof STREAM_TEMPLATES)[number];
const [START_CHUNK, TEXT_CHUNK, FINISH_CHUNK, USAGE_CHUNK] = STREAM_TEMPLATES as [Chunk, Chunk, Chunk, Chunk];

/** The fixture's answer text, as the fake's default stream pieces. */
export const WEBUI_PIECES = ["Hello!", " How can I", " help you today?"];

/** How the fake behaves. */
export interface WebuiFakeOptions {
  /** Generated text, one stream chunk per piece. */
  pieces: string[];
  /** Put `usage` on the finish chunk, without a usage-only chunk (builds before 2026-03). */
  usageOnFinish: boolean;
  /** The stream's connection is destroyed after this many text chunks. */
  dieAfterChunks: number | null;
  /** `/v1/completions` (or the legacy generate) answers this status and body. */
  error: { status: number; body: string } | null;
}

/** One request the fake received. */
export interface WebuiReceived {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

/** A running fake. */
export interface FakeWebui {
  /** `http://127.0.0.1:PORT` (the server root, as `base_url`). */
  url: string;
  requests: WebuiReceived[];
  /** Requests to the generate endpoint (`/v1/completions` or `/api/v1/generate`), oldest first. */
  generations(): WebuiReceived[];
  /** Changes the behaviour of the following requests (unset fields keep their defaults). */
  set(options: Partial<WebuiFakeOptions>): void;
  close(): Promise<void>;
}

const DEFAULTS: WebuiFakeOptions = { pieces: WEBUI_PIECES, usageOnFinish: false, dieAfterChunks: null, error: null };

/** Starts the fake on an ephemeral loopback port; `legacy` serves the legacy blocking API instead of the OpenAI one. */
export async function startFakeWebui(flavour: { legacy?: boolean } = {}): Promise<FakeWebui> {
  let options = { ...DEFAULTS };
  const requests: WebuiReceived[] = [];
  const generatePath = flavour.legacy ? "/api/v1/generate" : "/v1/completions";

  const server = http.createServer(
    handled(async (req, res) => {
      let raw = "";
      for await (const piece of req) raw += piece;
      const path = (req.url ?? "/").split("?")[0]!;
      let body: Record<string, unknown> | undefined;
      try {
        body = req.method === "POST" ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
      } catch {
        body = undefined;
      }
      requests.push({ method: req.method ?? "GET", path, headers: req.headers, body });
      if (flavour.legacy) return legacyAnswer(req.socket, req.method ?? "GET", path, body ?? {}, options);
      openAIAnswer(req, res, path, body, options);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    generations: () => requests.filter((r) => r.path === generatePath),
    set(next) {
      options = { ...DEFAULTS, ...next };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The pieces that fit in `maxTokens` answer tokens, and webui's finish reason for them. */
function generate(prompt: string, pieces: string[], maxTokens: number, truncationLength: number) {
  const out: string[] = [];
  for (const piece of pieces) {
    if (fakeTokenize([...out, piece].join(""), true).length > maxTokens) break;
    out.push(piece);
  }
  // webui counts both with `encode()`, which adds BOS (`add_bos_token` defaults to true).
  const promptTokens = fakeTokenize(prompt, true).length;
  const completionTokens = fakeTokenize(out.join(""), true).length;
  const length =
    completionTokens >= maxTokens || (truncationLength > 0 && promptTokens + completionTokens >= truncationLength);
  return { pieces: out, promptTokens, completionTokens, finishReason: length ? "length" : "stop" };
}

function openAIAnswer(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  path: string,
  body: Record<string, unknown> | undefined,
  options: WebuiFakeOptions,
): void {
  const json = (status: number, value: unknown) => {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const host = (req.headers.host ?? "").split(":")[0];
  if (host !== "127.0.0.1" && host !== "localhost") return json(400, { detail: "Invalid host header" });
  if (req.method === "POST" && path === "/v1/internal/token-count" && typeof body?.text === "string") {
    return json(200, { length: fakeTokenize(body.text, true).length });
  }
  if (req.method !== "POST" || path !== "/v1/completions") return json(404, { detail: "Not Found" });
  if (options.error) return json(options.error.status, options.error.body);
  if (typeof body?.prompt !== "string")
    return json(422, {
      detail: [{ type: "missing", loc: ["body", "prompt"], msg: "Field required", input: body ?? null }],
    });
  const maxTokens = typeof body.max_tokens === "number" ? body.max_tokens : 512;
  const run = generate(
    body.prompt,
    options.pieces,
    maxTokens,
    typeof body.truncation_length === "number" ? body.truncation_length : 0,
  );
  const usage = {
    prompt_tokens: run.promptTokens,
    completion_tokens: run.completionTokens,
    total_tokens: run.promptTokens + run.completionTokens,
  };
  const choice = (template: { choices: Record<string, unknown>[] }, fields: Record<string, unknown>) => [
    { ...template.choices[0], ...fields },
  ];
  if (body.stream !== true) {
    return json(200, {
      ...completions.response,
      choices: choice(completions.response, { finish_reason: run.finishReason, text: run.pieces.join("") }),
      usage,
    });
  }
  const includeUsage =
    (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true && !options.usageOnFinish;
  const send = (chunk: Record<string, unknown>) => res.write(`data: ${pythonJson(chunk)}\n\n`);
  const withUsage = (chunk: Record<string, unknown>, value: unknown) =>
    includeUsage ? { ...chunk, usage: value } : omit(chunk, "usage");
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
  send(withUsage(START_CHUNK, null));
  for (const [i, text] of run.pieces.entries()) {
    if (options.dieAfterChunks !== null && i >= options.dieAfterChunks) {
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    send(withUsage({ ...TEXT_CHUNK, choices: choice(TEXT_CHUNK, { text }) }, null));
  }
  const finish = { ...FINISH_CHUNK, choices: choice(FINISH_CHUNK, { finish_reason: run.finishReason }) };
  if (includeUsage) {
    send(finish);
    send({ ...USAGE_CHUNK, usage });
  } else {
    send(options.usageOnFinish ? { ...finish, usage } : withUsage(finish, null));
  }
  res.end("data: [DONE]\n\n");
}

/** The legacy API: Python's http.server, HTTP/1.0 without Content-Length, connection closed after the answer. */
function legacyAnswer(
  socket: Socket,
  method: string,
  path: string,
  body: Record<string, unknown>,
  options: WebuiFakeOptions,
): void {
  const answer = (status: string, text: string) => {
    socket.write(
      `HTTP/1.0 ${status}\r\nServer: BaseHTTP/0.6 Python/3.10.12\r\nDate: ${new Date().toUTCString()}\r\nContent-Type: application/json\r\n` +
        "Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: *\r\nAccess-Control-Allow-Headers: *\r\nCache-Control: no-store, no-cache, must-revalidate\r\n\r\n",
    );
    socket.end(text);
  };
  if (method === "GET" && path === "/api/v1/model") return answer("200 OK", pythonJson(legacy.model.response));
  if (method === "POST" && path === "/api/v1/token-count")
    return answer("200 OK", pythonJson({ results: [{ tokens: fakeTokenize(fieldText(body.prompt), true).length }] }));
  if (method === "POST" && path === "/api/v1/generate") {
    if (options.error) return answer(`${options.error.status} Error`, options.error.body);
    const maxNewTokens = typeof body.max_new_tokens === "number" ? body.max_new_tokens : 200;
    const run = generate(
      fieldText(body.prompt),
      options.pieces,
      maxNewTokens,
      typeof body.truncation_length === "number" ? body.truncation_length : 2048,
    );
    return answer("200 OK", pythonJson({ results: [{ text: run.pieces.join("") }] }));
  }
  answer("404 Not Found", "");
}
