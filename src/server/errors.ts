/**
 * Every error leaves the server as an OpenAI error body: our own
 * RelayErrors, Fastify's body-parsing errors (invalid JSON → 400, body
 * too large → 413, unsupported media type → 415) and unknown routes (404).
 */
import type { FastifyError, FastifyInstance } from "fastify";
import { RelayError, invalidRequest } from "../protocol/errors.js";

/** Installs the error and not-found handlers. */
export function installErrorHandlers(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((error: FastifyError | RelayError, request, reply) => {
    const relayError = error instanceof RelayError ? error : fromFastifyError(error, bodyLimitBytes);
    if (relayError.status >= 500) request.log.error({ err: error }, "request failed");
    reply.code(relayError.status).headers(relayError.headers).send(relayError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(
      new RelayError({
        status: 404,
        message: `Invalid URL (${request.method} ${request.url})`,
        type: "invalid_request_error",
        code: "unknown_url",
        errorClass: "not_found",
      }).toBody(),
    );
  });
}

function fromFastifyError(error: FastifyError, bodyLimitBytes: number): RelayError {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new RelayError({
        status: 413,
        message: `Request body too large: the limit is ${bodyLimitBytes} bytes (body_limit_mb).`,
        type: "invalid_request_error",
        code: "request_too_large",
        errorClass: "payload_too_large",
      });
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return invalidRequest("The request body is empty; send a JSON object with 'model' and 'messages'.", null, "invalid_json");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new RelayError({ status: 415, message: error.message, type: "invalid_request_error", code: "unsupported_media_type", errorClass: "invalid_request" });
    default:
      break;
  }
  if (error instanceof SyntaxError || error.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return invalidRequest(`We could not parse the JSON body of your request: ${error.message}`, null, "invalid_json");
  }
  const status = typeof error.statusCode === "number" && error.statusCode >= 400 ? error.statusCode : 500;
  if (status < 500) return new RelayError({ status, message: error.message, errorClass: "invalid_request" });
  return new RelayError({ status, message: `Internal error: ${error.message}`, type: "server_error", errorClass: "internal", cause: error });
}
