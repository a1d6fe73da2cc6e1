/**
 * A fake OpenAI-compatible embeddings upstream: a real HTTP server on
 * 127.0.0.1 answering `POST {base}/embeddings` in the documented shape of
 * test/fixtures/protocols/openai/embeddings-response.json (see the README
 * there), pretty-printed. Input i gets a vector of `dimensions` values
 * (default 4) made from the documented vector's values; with
 * `encoding_format: "base64"` each vector is the base64 of its
 * little-endian float32 bytes. Faults per request: an HTTP error status,
 * or an answer without `usage`.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { handled } from "./async-handler.js";

const FIXTURE = JSON.parse(
  fs.readFileSync(new URL("../fixtures/protocols/openai/embeddings-response.json", import.meta.url), "utf8"),
) as {
  data: { embedding: number[] }[];
  usage: { prompt_tokens: number };
};

/** What the fake does with the next requests. */
export type EmbeddingsBehaviour =
  /** A normal answer; `usage: false` leaves `usage` out. */
  { kind: "ok"; usage?: boolean } | { kind: "status"; status: number; body: string; headers?: Record<string, string> };

/** One request the fake received, and the body it answered with. */
export interface EmbeddingsRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The response body, byte for byte. */
  answer: string;
}

/** A running fake. */
export interface FakeEmbeddings {
  /** e.g. `http://127.0.0.1:12345/v1` */
  baseUrl: string;
  requests: EmbeddingsRequest[];
  behave(behaviour: EmbeddingsBehaviour): void;
  close(): Promise<void>;
}

/** `usage.prompt_tokens` the fake reports per input (the documented count of its one example input). */
export const TOKENS_PER_INPUT = FIXTURE.usage.prompt_tokens;

/** The float32 vector the fake answers for input `index` with `dimensions` values. */
export function fakeVector(index: number, dimensions = 4): number[] {
  const base = FIXTURE.data[0]!.embedding;
  return Array.from({ length: dimensions }, (_, j) => Math.fround(base[j % base.length]! * (index + 1) + j / 1024));
}

function base64Of(vector: number[]): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  vector.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return Buffer.from(view.buffer).toString("base64");
}

function inputCount(input: unknown): number {
  if (!Array.isArray(input)) return 1;
  return typeof input[0] === "number" ? 1 : input.length;
}

/** Starts the fake on an ephemeral loopback port. */
export async function startFakeEmbeddings(): Promise<FakeEmbeddings> {
  let behaviour: EmbeddingsBehaviour = { kind: "ok" };
  const requests: EmbeddingsRequest[] = [];
  const server = http.createServer(
    handled(async (req, res) => {
      let raw = "";
      for await (const piece of req) raw += piece;
      const body = JSON.parse(raw || "{}") as Record<string, unknown>;
      const entry: EmbeddingsRequest = { path: req.url ?? "", headers: req.headers, body, answer: "" };
      requests.push(entry);
      const send = (status: number, text: string, headers: Record<string, string> = {}) => {
        entry.answer = text;
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(text);
      };
      if (entry.path !== "/v1/embeddings")
        return send(
          404,
          JSON.stringify({ error: { message: "not found", type: "invalid_request_error", param: null, code: null } }),
        );
      if (behaviour.kind === "status") return send(behaviour.status, behaviour.body, behaviour.headers);
      const count = inputCount(body.input);
      const dimensions = typeof body.dimensions === "number" ? body.dimensions : 4;
      const data = Array.from({ length: count }, (_, index) => {
        const vector = fakeVector(index, dimensions);
        return { object: "embedding", embedding: body.encoding_format === "base64" ? base64Of(vector) : vector, index };
      });
      const tokens = TOKENS_PER_INPUT * count;
      const answer = {
        object: "list",
        data,
        model: `${String(body.model)}-served`,
        ...(behaviour.usage === false ? {} : { usage: { prompt_tokens: tokens, total_tokens: tokens } }),
      };
      send(200, JSON.stringify(answer, null, 2));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    behave(next) {
      behaviour = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
