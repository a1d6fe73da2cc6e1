/**
 * A fake vLLM or LM Studio server: a real HTTP server on 127.0.0.1 speaking
 * their OpenAI-compatible APIs with the shapes kept in
 * test/fixtures/protocols/vllm/ and .../lmstudio/ (see the READMEs there):
 * `/v1/chat/completions` (JSON or SSE), LM Studio's `/v1/completions` and
 * `/api/v0/models/{model}`, vLLM's `/v1/models` (`max_model_len`) and
 * `/tokenize`. Faults are injected per request.
 */
import fs from "node:fs";
import http from "node:http";
import { listenOnLoopback } from "./loopback-server.js";
import { handled } from "./async-handler.js";

type Json = Record<string, unknown>;
/** Which server the fake plays. */
export type LocalFlavor = "vllm" | "lmstudio";

/** How the fake answers a completion request. */
export type LocalBehaviour =
  | { kind: "ok"; text?: string; chunks?: number; finishReason?: string }
  /** Streams `events` content events, then resets the connection. */
  | { kind: "reset-after"; events: number; text?: string }
  | { kind: "status"; status: number; body: string };

/** One request the fake received. */
export interface LocalRequest {
  method: string;
  path: string;
  body: Json;
}

/** A running fake. */
export interface FakeLocalServer {
  /** `http://127.0.0.1:PORT/v1` */
  baseUrl: string;
  requests: LocalRequest[];
  requestsTo(path: string): LocalRequest[];
  behave(behaviour: LocalBehaviour): void;
  /** The `count` vLLM's /tokenize answers with; null makes /tokenize answer 404 (a server without it). */
  setTokenCount(count: number | null): void;
  /** Changes `max_model_len` / `max_context_length` (a server restarted with another window). */
  setContextLength(tokens: number): void;
  close(): Promise<void>;
}

/** The default answer text. */
export const LOCAL_TEXT = "Hello! How can I help you today?";

function fixtureText(flavor: LocalFlavor, name: string): string {
  return fs.readFileSync(new URL(`../fixtures/protocols/${flavor}/${name}`, import.meta.url), "utf8");
}
function fixtureJson(flavor: LocalFlavor, name: string): Json {
  return JSON.parse(fixtureText(flavor, name)) as Json;
}
/** The JSON events of an SSE fixture (without `[DONE]`). */
function fixtureEvents(flavor: LocalFlavor, name: string): Json[] {
  return fixtureText(flavor, name)
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => JSON.parse(line.slice("data: ".length)) as Json);
}

function pieces(text: string, count: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / count));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function withChoice(template: Json, model: string, choice: Json | null): Json {
  const [first] = template.choices as Json[];
  return { ...template, model, choices: choice === null ? [] : [{ ...first, ...choice }] };
}

/**
 * Starts the fake.
 * @param model the served model id
 * @param initialContextLength `max_model_len` (vLLM) or `max_context_length` (LM Studio); see `setContextLength`
 */
export async function startFakeLocalServer(
  flavor: LocalFlavor,
  model: string,
  initialContextLength: number,
): Promise<FakeLocalServer> {
  let contextLength = initialContextLength;
  let behaviour: LocalBehaviour = { kind: "ok" };
  let tokenCount: number | null = (fixtureJson("vllm", "tokenize-response.json").count as number) ?? 12;
  const requests: LocalRequest[] = [];
  const chatEvents = fixtureEvents(flavor, "chat-stream.sse");
  const chatUsage = chatEvents.at(-1)!;
  const chatFinish = chatEvents.at(-2)!;
  const chatContent = flavor === "vllm" ? chatEvents[1]! : chatEvents[0]!;
  const textEvents = flavor === "lmstudio" ? fixtureEvents("lmstudio", "completions-stream.sse") : [];

  function sse(res: http.ServerResponse, event: Json | "[DONE]"): void {
    res.write(`data: ${event === "[DONE]" ? event : JSON.stringify(event)}\n\n`);
  }

  /** The events of a streamed answer: content (or text) events, the finish event, the usage event when asked. */
  function streamEvents(completions: boolean, body: Json, text: string, chunks: number, finishReason: string): Json[] {
    const name = String(body.model);
    const parts = pieces(text, chunks);
    const events: Json[] = [];
    if (completions) {
      const [textTemplate, finishTemplate, usageTemplate] = textEvents as [Json, Json, Json];
      for (const part of parts) events.push(withChoice(textTemplate, name, { text: part }));
      events.push(withChoice(finishTemplate, name, { finish_reason: finishReason }));
      if ((body.stream_options as Json | undefined)?.include_usage) events.push({ ...usageTemplate, model: name });
      return events;
    }
    if (flavor === "vllm") events.push(withChoice(chatEvents[0]!, name, {}));
    parts.forEach((part, i) => {
      const delta = flavor === "lmstudio" && i === 0 ? { role: "assistant", content: part } : { content: part };
      events.push(withChoice(chatContent, name, { delta }));
    });
    events.push(withChoice(chatFinish, name, { finish_reason: finishReason }));
    if ((body.stream_options as Json | undefined)?.include_usage) events.push({ ...chatUsage, model: name });
    return events;
  }

  function wholeAnswer(completions: boolean, body: Json, text: string, finishReason: string): Json {
    const name = String(body.model);
    if (completions)
      return withChoice(fixtureJson("lmstudio", "completions-response.json"), name, {
        text,
        finish_reason: finishReason,
      });
    const answer = fixtureJson(flavor, "chat-response.json");
    const [choice] = answer.choices as Json[];
    return withChoice(answer, name, {
      message: { ...(choice!.message as Json), content: text },
      finish_reason: finishReason,
    });
  }

  const server = http.createServer(
    handled(async (req, res) => {
      let raw = "";
      for await (const piece of req) raw += piece;
      const body = (raw ? JSON.parse(raw) : {}) as Json;
      const path = req.url ?? "";
      requests.push({ method: req.method ?? "", path, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (flavor === "vllm" && path === "/v1/models") {
        const list = fixtureJson("vllm", "models.json");
        const [entry] = list.data as Json[];
        return json(200, { ...list, data: [{ ...entry, id: model, root: model, max_model_len: contextLength }] });
      }
      if (flavor === "vllm" && path === "/tokenize") {
        if (tokenCount === null) return json(404, { detail: "Not Found" });
        return json(200, {
          ...fixtureJson("vllm", "tokenize-response.json"),
          count: tokenCount,
          max_model_len: contextLength,
        });
      }
      if (flavor === "lmstudio" && path.startsWith("/api/v0/models/")) {
        return json(200, {
          ...fixtureJson("lmstudio", "model-v0.json"),
          id: decodeURIComponent(path.slice("/api/v0/models/".length)),
          max_context_length: contextLength,
        });
      }
      const completions = flavor === "lmstudio" && path === "/v1/completions";
      if (path !== "/v1/chat/completions" && !completions)
        return json(404, { error: "Unexpected endpoint or method." });
      const current = behaviour;
      if (current.kind === "status") {
        res.writeHead(current.status, { "content-type": "application/json" });
        res.end(current.body);
        return;
      }
      const text = current.text ?? LOCAL_TEXT;
      if (current.kind === "ok" && !body.stream)
        return json(200, wholeAnswer(completions, body, text, current.finishReason ?? "stop"));
      res.writeHead(200, { "content-type": "text/event-stream" });
      if (current.kind === "ok") {
        for (const event of streamEvents(completions, body, text, current.chunks ?? 5, current.finishReason ?? "stop"))
          sse(res, event);
        sse(res, "[DONE]");
        res.end();
        return;
      }
      const events = streamEvents(completions, body, text, current.events + 3, "stop").filter((e) => {
        const choice = (e.choices as Json[])[0];
        return (
          choice !== undefined &&
          choice.finish_reason == null &&
          (Boolean(choice.text) || Boolean((choice.delta as Json | undefined)?.content))
        );
      });
      for (const event of events.slice(0, current.events)) sse(res, event);
      await new Promise((resolve) => setTimeout(resolve, 20));
      res.socket?.resetAndDestroy();
    }),
  );
  const listening = await listenOnLoopback(server);
  const { port } = listening;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    requestsTo: (p) => requests.filter((r) => r.path === p),
    behave(next) {
      behaviour = next;
    },
    setTokenCount(count) {
      tokenCount = count;
    },
    setContextLength(tokens) {
      contextLength = tokens;
    },
    async close() {
      await listening.close();
    },
  };
}
