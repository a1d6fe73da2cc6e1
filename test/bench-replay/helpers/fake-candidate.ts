/**
 * A fake candidate model for the bench tests: a real OpenAI-compatible
 * HTTP server on 127.0.0.1 with a known latency profile (a delay before
 * the first chunk, then a delay after each chunk) and known answers (a
 * function of the request). The chunk and completion shapes are those of
 * ../../helpers/fake-openai-upstream.ts (captured from llama.cpp's
 * llama-server, ../shared/fixtures/protocols/llama-server.txt): no
 * role-only first chunk, a finish chunk, a usage chunk when
 * `stream_options.include_usage` is set, then `data: [DONE]`.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";
import { chunk, completion, splitText, usageChunk } from "../../helpers/fake-openai-upstream.js";
import { listenOnLoopback } from "../../helpers/loopback-server.js";
import { handled } from "../../helpers/async-handler.js";
import { omit } from "../../helpers/omit.js";

/** How the fake answers. */
export interface CandidateProfile {
  /** ms between the request and the first content chunk. */
  firstChunkDelayMs: number;
  /** ms after each content chunk. */
  chunkDelayMs: number;
  /** Content chunks per answer. */
  chunkCount: number;
  /** The answer to a request body. */
  answer(body: Record<string, unknown>): string;
  /**
   * Usage reported in the usage chunk / completion (default: 40 prompt, 12 completion tokens);
   * null: none at all (no usage chunk, no `usage` field), as some local servers answer.
   */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  /** When it returns true, the request gets HTTP 500 with an OpenAI error body. */
  fail?(body: Record<string, unknown>): boolean;
}

/** A request the fake received. */
export interface CandidateRequest {
  body: Record<string, unknown>;
  /** Whether the client closed the connection before the answer ended. */
  aborted: boolean;
  /** `performance.now()` when the request arrived (before its body was read). */
  receivedAt: number;
  /** `performance.now()` when each content chunk was written (this process's clock: tests compare it with the client's). */
  contentWrittenAt: number[];
}

/** A running fake candidate. */
export interface FakeCandidate {
  /** `http://127.0.0.1:PORT/v1` */
  baseUrl: string;
  requests: CandidateRequest[];
  /** The most requests it was answering at once. */
  maxInFlight(): number;
  close(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts a fake candidate on an ephemeral loopback port. */
export async function startFakeCandidate(profile: CandidateProfile): Promise<FakeCandidate> {
  const requests: CandidateRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer(
    handled(async (req, res) => {
      const receivedAt = performance.now();
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on("close", () => inFlight--);
      let raw = "";
      for await (const piece of req) raw += piece;
      const body = JSON.parse(raw) as Record<string, unknown>;
      const received: CandidateRequest = { body, aborted: false, receivedAt, contentWrittenAt: [] };
      requests.push(received);
      res.on("close", () => {
        if (!res.writableFinished) received.aborted = true;
      });
      const model = typeof body.model === "string" ? body.model : "fake";
      const id = `chatcmpl-cand${requests.length}`;
      if (profile.fail?.(body)) {
        res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
        res.end(
          JSON.stringify({
            error: { code: 500, message: "the fake candidate failed on purpose", type: "server_error" },
          }),
        );
        return;
      }
      const text = profile.answer(body);
      const usage = profile.usage === undefined ? { prompt_tokens: 40, completion_tokens: 12 } : profile.usage;
      const fullUsage = usage && { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
      if (!body.stream) {
        await sleep(profile.firstChunkDelayMs);
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        res.end(
          JSON.stringify(
            fullUsage
              ? completion(id, model, text, fullUsage)
              : withoutUsage(completion(id, model, text, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 })),
          ),
        );
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.flushHeaders();
      await sleep(profile.firstChunkDelayMs);
      // No delay between chunks: the whole answer goes out in one write (corked), so the client receives it in one
      // piece whatever the load, as a buffering upstream or middlebox sends it.
      const onePiece = profile.chunkDelayMs === 0;
      if (onePiece) res.cork();
      for (const piece of splitText(text, profile.chunkCount)) {
        if (res.destroyed) return;
        res.write(`data: ${JSON.stringify(chunk(id, model, { content: piece }, null))}\n\n`);
        received.contentWrittenAt.push(performance.now());
        if (profile.chunkDelayMs > 0) await sleep(profile.chunkDelayMs);
      }
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(chunk(id, model, {}, "stop"))}\n\n`);
      if (fullUsage && (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) {
        res.write(`data: ${JSON.stringify(usageChunk(id, model, fullUsage))}\n\n`);
      }
      res.end("data: [DONE]\n\n");
      if (onePiece) res.uncork();
    }),
  );
  const listening = await listenOnLoopback(server);
  const { port } = listening;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    maxInFlight: () => maxInFlight,
    async close() {
      await listening.close();
    },
  };
}

/** The text of the last user message of a request body. */
export function lastUserText(body: Record<string, unknown>): string {
  const messages = (body.messages as { role: string; content: unknown }[] | undefined) ?? [];
  const last = [...messages].reverse().find((m) => m.role === "user");
  return typeof last?.content === "string" ? last.content : "";
}

function withoutUsage<T extends { usage?: unknown }>(body: T): Omit<T, "usage"> {
  return omit(body, "usage");
}
