/**
 * Every error leaves the server in the shape its route promises, with an
 * `x-request-id` header: OpenAI's `{"error":{"message","type","param","code"}}`
 * on `/v1/*`, `/health` and everything else; Anthropic's on `/v1/messages*`,
 * Ollama's `{"error": "<string>"}` on `/api/*`, Google's on `/v1beta/*`; the envelope
 * (`server/envelope.ts`) on `/internal/*` and the browser's `/ui/*`. That covers our own RelayErrors,
 * Fastify's errors (invalid JSON → 400, body too large → 413, unsupported
 * media type → 415, a body shorter than its `content-length` → 400), unknown
 * routes (404), errors Fastify raises before routing (a bad URL such as
 * `/v1/models/%ff%fe` → 400, `frameworkErrors`), an `Expect` other than
 * `100-continue` (417, answered by Node before Fastify sees the request) and
 * requests Node's HTTP parser refuses (`clientError`: malformed or duplicate
 * `content-length`, headers over 16 KB → 431, request timeout → 408, …),
 * which are written on the socket directly, with a fresh request id, and
 * `CONNECT` requests (405; Node would close their socket without a word).
 */
import { errors, uncodedError } from "../protocol/error-codes.js";
import { STATUS_CODES, maxHeaderSize, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { RelayError, invalidRequest } from "../protocol/errors.js";
import { envelopeError } from "./envelope.js";
import { anthropicErrorBody } from "../protocol/anthropic/error-body.js";
import { geminiErrorBody } from "../protocol/gemini/error-body.js";
import { ollamaErrorBody } from "../protocol/ollama/error-body.js";
import { withoutKeyParam } from "../protocol/gemini/key-param.js";
import { newRequestId, requestIdOf } from "./request-id.js";

/** 5xx answers that are load shedding, not failures: not logged as errors. */
const EXPECTED_5XX = new Set(["server_busy", "server_shutting_down"]);

/** Whether `url` (a request target: path and query) is an internal endpoint, which answers the envelope. */
export function isInternalPath(url: string): boolean {
  return url === "/internal" || url.startsWith("/internal/") || url.startsWith("/internal?");
}

/** Whether `url` is the conversation browser (`/ui`, `/ui/*`: its pages and its JSON API `/ui/api/*`), which answers the envelope. */
export function isUiPath(url: string): boolean {
  return url === "/ui" || url.startsWith("/ui/") || url.startsWith("/ui?");
}

/** Whether `url` is Anthropic's Messages API (`/v1/messages`, `/v1/messages/count_tokens`), which answers Anthropic's error shape. */
export function isMessagesPath(url: string): boolean {
  return url === "/v1/messages" || url.startsWith("/v1/messages/") || url.startsWith("/v1/messages?");
}

/** Whether `url` is Ollama's native API (`/api/*`), which answers `{"error": "<string>"}`. */
export function isOllamaPath(url: string): boolean {
  return url === "/api" || url.startsWith("/api/") || url.startsWith("/api?");
}

/** Whether `url` is the Gemini API (`/v1beta/*`), which answers Google's error shape. */
export function isGeminiPath(url: string): boolean {
  return url === "/v1beta" || url.startsWith("/v1beta/") || url.startsWith("/v1beta?");
}

/**
 * The JSON body of `error` for a request to `url`: the envelope on `/internal/*` and `/ui/*`, Anthropic's error shape on
 * `/v1/messages*`, Ollama's on `/api/*`, Google's on `/v1beta/*`, else OpenAI's error body (OpenAI's
 * Responses API and legacy completions use it too).
 */
export function errorBodyFor(url: string, error: RelayError): unknown {
  if (isInternalPath(url) || isUiPath(url)) return envelopeError(error).body;
  if (isMessagesPath(url)) return anthropicErrorBody(error);
  if (isOllamaPath(url)) return ollamaErrorBody(error);
  if (isGeminiPath(url)) return geminiErrorBody(error);
  return error.toBody();
}

/** Installs the error and not-found handlers. */
export function installErrorHandlers(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((error: FastifyError | RelayError, request, reply) => {
    const relayError = error instanceof RelayError ? error : fromFastifyError(error, bodyLimitBytes);
    if (relayError.status >= 500 && !EXPECTED_5XX.has(relayError.code ?? ""))
      request.log.error({ err: error }, "request failed");
    sendError(request, reply, relayError);
  });
  app.setNotFoundHandler((request, reply) => {
    // The URL is echoed without the value of a `?key=` (the Gemini API's way to pass a key).
    sendError(request, reply, errors.unknownUrl(`Invalid URL (${request.method} ${withoutKeyParam(request.url)})`));
  });
}

/**
 * Fastify's `frameworkErrors` option: errors raised before a route is found
 * (`FST_ERR_BAD_URL` for a path with malformed percent-encoding,
 * `FST_ERR_MAX_PARAM_LENGTH`), before any hook ran.
 */
export function frameworkErrorHandler(
  bodyLimitBytes: number,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    let relayError: RelayError;
    if (error.code === "FST_ERR_BAD_URL") {
      relayError = invalidRequest(
        `The URL is not valid: ${request.url.slice(0, 200)} (malformed percent-encoding).`,
        null,
        "invalid_url",
      );
    } else if (error.code === "FST_ERR_MAX_PARAM_LENGTH") {
      relayError = errors.urlTooLong("The URL is too long.");
    } else {
      relayError = fromFastifyError(error, bodyLimitBytes);
    }
    sendError(request, reply, relayError);
  };
}

/** Sends `error` in the route's shape with `x-request-id`. */
function sendError(request: FastifyRequest, reply: FastifyReply, error: RelayError): void {
  reply.header("x-request-id", request.id);
  void reply.code(error.status).headers(error.headers).send(errorBodyFor(request.url, error));
}

function fromFastifyError(error: FastifyError, bodyLimitBytes: number): RelayError {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return errors.requestTooLarge(`Request body too large: the limit is ${bodyLimitBytes} bytes (body_limit_mb).`);
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return invalidRequest(
        "The request body is empty; send a JSON object with 'model' and 'messages'.",
        null,
        "invalid_json",
      );
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return errors.unsupportedMediaType(error.message);
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return invalidRequest(
        "The request body does not have the length its Content-Length header announces.",
        null,
        "invalid_content_length",
      );
    default:
      break;
  }
  if (error instanceof SyntaxError || error.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return invalidRequest(`We could not parse the JSON body of your request: ${error.message}`, null, "invalid_json");
  }
  const status = typeof error.statusCode === "number" && error.statusCode >= 400 ? error.statusCode : 500;
  return status < 500
    ? uncodedError(error.message, status)
    : uncodedError(`Internal error: ${error.message}`, status, error);
}

/**
 * Node's `checkExpectation` event (an `Expect` header other than `100-continue`):
 * 417 `expectation_failed` in the route's shape, with `x-request-id`, and the
 * connection closed (the body, if any, is never read).
 */
export function answerUnmetExpectation(request: IncomingMessage, response: ServerResponse): void {
  const error = errors.expectationFailed(
    `The Expect header '${String(request.headers.expect).slice(0, 100)}' is not supported; only 100-continue is.`,
  );
  const body = JSON.stringify(errorBodyFor(request.url ?? "/", error));
  response.writeHead(error.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "x-request-id": requestIdOf(request.headers),
    connection: "close",
  });
  response.end(body);
}

/** What the socket of a `clientError` may still carry: the response in progress on it (a Node internal, read only). */
interface ClientSocket extends Socket {
  _httpMessage?: ServerResponse | null;
}

/**
 * Fastify's `clientErrorHandler` (Node's `clientError`): a request Node's HTTP
 * parser refused, or that timed out before it was read. Answered on the raw
 * socket in the shape of its route (the path is read from the bytes parsed,
 * when there are any), with a fresh `x-request-id` and `Connection: close`,
 * then the socket is closed. Nothing is written when the client is gone or a
 * response already started on the socket.
 */
export function clientErrorHandler(logger: Logger): (error: ConnectionError, socket: Socket) => void {
  return (error, socket) => {
    const client = socket as ClientSocket;
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    if (!socket.writable || client._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const relayError = fromClientError(error);
    logger.debug({ err: error, status: relayError.status }, "client error");
    // When the request line and headers were parsed (the error came in the body), its URL and id are known.
    const pending = client._httpMessage ?? null;
    const pendingId = pending?.getHeader("x-request-id");
    endWithError(
      socket,
      pending?.req?.url ?? requestPathOf(error.rawPacket),
      relayError,
      typeof pendingId === "string" ? pendingId : pending ? requestIdOf(pending.req.headers) : newRequestId(),
    );
  };
}

/**
 * Node's `connect` event: a `CONNECT` request (this is not a forward proxy). Without a listener
 * Node would close the socket without a word; it gets 405 `method_not_allowed` instead.
 */
export function answerConnect(request: IncomingMessage, socket: Duplex): void {
  const error = errors.methodNotAllowed("CONNECT is not supported: llm-relay is not a forward proxy.");
  socket.on("error", () => socket.destroy());
  endWithError(socket, "/", error, requestIdOf(request.headers));
}

/** Writes a whole error response (`Connection: close`) on a raw socket, then closes it. */
function endWithError(socket: Duplex, target: string, error: RelayError, requestId: string): void {
  const body = JSON.stringify(errorBodyFor(target, error));
  const head = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}`,
    "content-type: application/json; charset=utf-8",
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    "connection: close",
  ];
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`, () => socket.destroy());
}

function fromClientError(error: ConnectionError): RelayError {
  switch (error.code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return errors.requestTimeout("The request was not received in time.");
    case "HPE_HEADER_OVERFLOW":
      return errors.requestHeaderFieldsTooLarge(
        `The request's headers are too large (the limit is ${Math.round(maxHeaderSize / 1024)} KB in all).`,
      );
    case "HPE_INVALID_CONTENT_LENGTH":
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
      return invalidRequest(
        "The request's Content-Length header is invalid (malformed, repeated, or sent with Transfer-Encoding).",
        null,
        "invalid_content_length",
      );
    default: {
      const reason = (error as ConnectionError & { reason?: unknown }).reason;
      return invalidRequest(
        `The request is not valid HTTP/1.1${typeof reason === "string" ? `: ${reason}` : ""}.`,
        null,
        "invalid_http",
      );
    }
  }
}

/** The request target of the first line of the bytes Node parsed (`POST /internal/usage HTTP/1.1`), or "/". */
function requestPathOf(rawPacket: unknown): string {
  if (!Buffer.isBuffer(rawPacket)) return "/";
  const line = rawPacket.subarray(0, Math.min(rawPacket.length, 512)).toString("latin1");
  const match = /^[A-Za-z]+ (\S+)/.exec(line);
  return match?.[1] ?? "/";
}
