/**
 * A fake Anthropic Messages API: a real HTTP server on 127.0.0.1 serving
 * `POST /v1/messages`. It checks each request the way the API documents
 * (https://docs.anthropic.com/en/api/messages): `x-api-key`,
 * `anthropic-version`, `max_tokens`, no `system` role, alternating
 * user/assistant turns starting with user, non-empty text blocks,
 * `tool_result` blocks first in their turn and answering the previous
 * turn's `tool_use` ids, tools with `input_schema`, and no fields the API
 * does not know. A request that fails a check gets Anthropic's 400
 * `invalid_request_error` (401 `authentication_error` for the key). Valid
 * requests are answered from the fixtures in
 * test/fixtures/protocols/anthropic/ (see the README there), streams
 * written event by event, each event in two pieces.
 */
import fs from "node:fs";
import http from "node:http";
import { listenOnLoopback } from "./loopback-server.js";
import { handled } from "./async-handler.js";

const FIXTURES = new URL("../fixtures/protocols/anthropic/", import.meta.url);

/** A conversation fixture: `message-<name>.json` (non-streaming) and `stream-<name>.sse` (streaming). */
export type AnthropicFixture = "text" | "tool-use" | "tool-answer" | "thinking";
/** An entry of errors.json. */
export type AnthropicErrorFixture = "invalid_request" | "prompt_too_long" | "rate_limit" | "overloaded";

/** What the fake does with one request (after the request passed its checks). */
export type AnthropicBehaviour =
  /** Answers with a conversation fixture (stream or not, as asked); `stopReason` replaces the fixture's stop reason. */
  | { kind: "replay"; fixture: AnthropicFixture; stopReason?: string }
  /** Answers with an HTTP error of errors.json. */
  | { kind: "error"; error: AnthropicErrorFixture }
  /** Answers 200 with the stream of `<file>.sse` whatever was asked (in-band errors); with `events`, only that many events, then the end of the body. */
  | { kind: "sse"; file: string; events?: number }
  /** Answers 200 and a stream whose first and only event is errors.json's in-band `overloaded_event`. */
  | { kind: "error-event" }
  /** Never answers (the connection stays open until the client gives up). */
  | { kind: "stall" };

/** One request the fake received. */
export interface ReceivedAnthropicRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The check it failed (answered with a 400/401), or null. */
  rejected: string | null;
}

/** A running fake. */
export interface FakeAnthropicUpstream {
  /** `http://127.0.0.1:PORT` (the API root; requests go to `/v1/messages`). */
  baseUrl: string;
  requests: ReceivedAnthropicRequest[];
  /** Queues behaviours for the next requests, in order; with none queued, the fake answers the `text` fixture. */
  queue(...behaviours: AnthropicBehaviour[]): void;
  close(): Promise<void>;
}

/** The key the fake accepts in `x-api-key`. */
export const FAKE_ANTHROPIC_KEY = "test-key";

/** Reads a fixture file of test/fixtures/protocols/anthropic/. */
export function anthropicFixture(name: string): string {
  return fs.readFileSync(new URL(name, FIXTURES), "utf8");
}

/** errors.json, parsed. */
export function anthropicErrors(): Record<
  string,
  { status?: number; headers?: Record<string, string>; body?: unknown; event?: string; data?: unknown }
> {
  return JSON.parse(anthropicFixture("errors.json")) as ReturnType<typeof anthropicErrors>;
}

/** Starts the fake on an ephemeral loopback port. */
export async function startFakeAnthropic(): Promise<FakeAnthropicUpstream> {
  const queued: AnthropicBehaviour[] = [];
  const requests: ReceivedAnthropicRequest[] = [];
  const server = http.createServer(
    handled(async (req, res) => {
      let raw = "";
      for await (const piece of req) raw += String(piece);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // checked below
      }
      const received: ReceivedAnthropicRequest = { path: req.url ?? "", headers: req.headers, body, rejected: null };
      requests.push(received);
      if (req.method !== "POST" || req.url !== "/v1/messages")
        return sendError(res, 404, "not_found_error", "Not found", received);
      if (req.headers["x-api-key"] !== FAKE_ANTHROPIC_KEY)
        return sendError(res, 401, "authentication_error", "invalid x-api-key", received);
      if (req.headers["anthropic-version"] !== "2023-06-01")
        return sendError(res, 400, "invalid_request_error", "anthropic-version: header is required", received);
      const problem = checkRequest(body);
      if (problem) return sendError(res, 400, "invalid_request_error", problem, received);
      const behaviour = queued.shift() ?? { kind: "replay", fixture: "text" };
      await answer(res, behaviour, body.stream === true);
    }),
  );
  const listening = await listenOnLoopback(server);
  const { port } = listening;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    queue: (...behaviours) => void queued.push(...behaviours),
    async close() {
      await listening.close();
    },
  };
}

function sendError(
  res: http.ServerResponse,
  status: number,
  type: string,
  message: string,
  received: ReceivedAnthropicRequest,
): void {
  received.rejected = message;
  res.writeHead(status, { "content-type": "application/json", "request-id": "req_fake" });
  res.end(JSON.stringify({ type: "error", error: { type, message }, request_id: "req_fake" }));
}

async function answer(res: http.ServerResponse, behaviour: AnthropicBehaviour, stream: boolean): Promise<void> {
  const errors = anthropicErrors();
  switch (behaviour.kind) {
    case "stall":
      return;
    case "error": {
      const entry = errors[behaviour.error]!;
      res.writeHead(entry.status!, { "content-type": "application/json", ...entry.headers });
      res.end(JSON.stringify(entry.body));
      return;
    }
    case "error-event": {
      const entry = errors.overloaded_event!;
      return writeSse(res, `event: ${entry.event}\ndata: ${JSON.stringify(entry.data)}\n\n`);
    }
    case "sse": {
      const events = anthropicFixture(`${behaviour.file}.sse`).split(/(?<=\n\n)/);
      return writeSse(res, events.slice(0, behaviour.events ?? events.length).join(""));
    }
    case "replay": {
      if (stream)
        return writeSse(res, withStopReason(anthropicFixture(`stream-${behaviour.fixture}.sse`), behaviour.stopReason));
      const message = JSON.parse(anthropicFixture(`message-${behaviour.fixture}.json`)) as Record<string, unknown>;
      if (behaviour.stopReason) message.stop_reason = behaviour.stopReason;
      res.writeHead(200, { "content-type": "application/json", "request-id": "req_fake" });
      res.end(JSON.stringify(message));
      return;
    }
  }
}

/** The stream with `stop_reason` of its message_delta replaced (events re-serialised only when changed). */
function withStopReason(sse: string, stopReason: string | undefined): string {
  if (!stopReason) return sse;
  return sse.replace(/^data: (\{"type":"message_delta".*)$/m, (_line, json: string) => {
    const event = JSON.parse(json) as { delta: { stop_reason: string } };
    event.delta.stop_reason = stopReason;
    return `data: ${JSON.stringify(event)}`;
  });
}

/** Writes an SSE text event by event, each event split in two writes on separate ticks. */
async function writeSse(res: http.ServerResponse, sse: string): Promise<void> {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "request-id": "req_fake",
  });
  for (const event of sse.split(/(?<=\n\n)/)) {
    if (res.destroyed) return;
    const half = Math.ceil(event.length / 2);
    for (const piece of [event.slice(0, half), event.slice(half)]) {
      res.write(piece);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  res.end();
}

const TOP_LEVEL = new Set([
  "model",
  "max_tokens",
  "messages",
  "system",
  "temperature",
  "top_p",
  "top_k",
  "stop_sequences",
  "stream",
  "tools",
  "tool_choice",
  "metadata",
  "thinking",
  "service_tier",
]);

/** The first problem the real API would report for `body` (message in its `field: problem` style), or null. */
export function checkRequest(body: Record<string, unknown>): string | null {
  for (const key of Object.keys(body)) if (!TOP_LEVEL.has(key)) return `${key}: Extra inputs are not permitted`;
  if (typeof body.model !== "string" || !body.model) return "model: Field required";
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1)
    return "max_tokens: Field required (an integer ≥ 1)";
  if (body.system !== undefined && typeof body.system !== "string" && !isTextBlocks(body.system))
    return "system: Input should be a string or a list of text blocks";
  if (
    body.stop_sequences !== undefined &&
    !(Array.isArray(body.stop_sequences) && body.stop_sequences.every((s) => typeof s === "string"))
  )
    return "stop_sequences: Input should be a list of strings";
  if (body.metadata !== undefined && Object.keys(body.metadata as object).some((k) => k !== "user_id"))
    return "metadata: only user_id is accepted";
  const toolsProblem = checkTools(body.tools, body.tool_choice);
  if (toolsProblem) return toolsProblem;
  return checkMessages(body.messages, body.tools !== undefined);
}

function isTextBlocks(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.every(
      (b: { type?: unknown; text?: unknown }) => b?.type === "text" && typeof b.text === "string" && b.text !== "",
    )
  );
}

function checkTools(tools: unknown, choice: unknown): string | null {
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return "tools: Input should be a valid list";
    for (const [i, tool] of (tools as Record<string, unknown>[]).entries()) {
      if (typeof tool.name !== "string") return `tools.${i}.name: Field required`;
      const schema = tool.input_schema as { type?: unknown } | undefined;
      if (!schema || schema.type !== "object")
        return `tools.${i}.input_schema: Field required (a JSON schema of type object)`;
      for (const key of Object.keys(tool))
        if (!["name", "description", "input_schema", "cache_control"].includes(key))
          return `tools.${i}.${key}: Extra inputs are not permitted`;
    }
  }
  if (choice !== undefined) {
    const { type, name, disable_parallel_tool_use: noParallel } = choice as Record<string, unknown>;
    if (!["auto", "any", "tool", "none"].includes(String(type)))
      return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'";
    if (type === "tool" && typeof name !== "string") return "tool_choice.name: Field required";
    if (type === "none" && noParallel !== undefined)
      return "tool_choice.none.disable_parallel_tool_use: Extra inputs are not permitted";
    if (tools === undefined) return "tool_choice may only be specified while providing tools";
  }
  return null;
}

function checkMessages(messages: unknown, hasTools: boolean): string | null {
  if (!Array.isArray(messages) || messages.length === 0) return "messages: at least one message is required";
  let pendingToolUses: string[] = [];
  for (const [i, message] of (messages as { role?: unknown; content?: unknown }[]).entries()) {
    const expected = i % 2 === 0 ? "user" : "assistant";
    if (message.role !== expected)
      return `messages.${i}.role: roles must alternate between "user" and "assistant", starting with "user" (got ${String(message.role)})`;
    const blocks: Record<string, unknown>[] =
      typeof message.content === "string"
        ? [{ type: "text", text: message.content }]
        : (message.content as Record<string, unknown>[]);
    if (!Array.isArray(blocks) || blocks.length === 0)
      return `messages.${i}.content: at least one content block is required`;
    const answered: string[] = [];
    let pastResults = false;
    for (const [j, block] of blocks.entries()) {
      const where = `messages.${i}.content.${j}`;
      if (block.type !== "tool_result") pastResults = true;
      switch (block.type) {
        case "text":
          if (typeof block.text !== "string" || block.text === "")
            return `${where}: text content blocks must be non-empty`;
          break;
        case "image": {
          const source = block.source as Record<string, unknown> | undefined;
          const ok =
            (source?.type === "base64" && typeof source.media_type === "string" && typeof source.data === "string") ||
            (source?.type === "url" && typeof source.url === "string");
          if (!ok || message.role !== "user") return `${where}.source: invalid image source`;
          break;
        }
        case "tool_use":
          if (message.role !== "assistant" || typeof block.id !== "string" || typeof block.name !== "string")
            return `${where}: tool_use blocks need id and name, in assistant turns`;
          if (!block.input || typeof block.input !== "object" || Array.isArray(block.input))
            return `${where}.input: Input should be a valid dictionary`;
          break;
        case "tool_result":
          if (message.role !== "user" || pastResults)
            return `${where}: tool_result blocks must come first in a user turn`;
          if (!pendingToolUses.includes(String(block.tool_use_id)))
            return `${where}: unexpected tool_use_id found in tool_result blocks: ${String(block.tool_use_id)}`;
          if (typeof block.content !== "string" && !isTextBlocks(block.content))
            return `${where}.content: Input should be a string or text blocks`;
          answered.push(String(block.tool_use_id));
          break;
        default:
          return `${where}.type: unknown content block type ${String(block.type)}`;
      }
    }
    if (message.role === "user") {
      const missing = pendingToolUses.filter((id) => !answered.includes(id));
      if (missing.length > 0)
        return `messages.${i}: tool_use ids were found without tool_result blocks immediately after: ${missing.join(", ")}`;
      pendingToolUses = [];
    } else {
      pendingToolUses = blocks.filter((b) => b.type === "tool_use").map((b) => String(b.id));
      if (pendingToolUses.length > 0 && !hasTools)
        return "Requests which include `tool_use` or `tool_result` blocks must define tools.";
    }
  }
  return null;
}
