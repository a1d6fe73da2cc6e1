/**
 * A fake Ollama server: a real HTTP server on 127.0.0.1 speaking Ollama's
 * native API with the documented shapes kept in
 * test/fixtures/protocols/ollama/ (see the README there): `/api/chat` and
 * `/api/generate` (one JSON object, or NDJSON lines when streaming),
 * `/api/embed` (see {@link embedAnswer}), `/api/show`, `/api/tags`, and the 404 `{"error":"model '…' not found"}`
 * for a model it does not have. Faults are injected per request.
 */
import fs from "node:fs";
import http from "node:http";
import { listenOnLoopback } from "./loopback-server.js";
import { handled } from "./async-handler.js";

const FIXTURES = new URL("../fixtures/protocols/ollama/", import.meta.url);

type Json = Record<string, unknown>;

function fixture(name: string): string {
  return fs.readFileSync(new URL(name, FIXTURES), "utf8");
}
function fixtureJson(name: string): Json {
  return JSON.parse(fixture(name)) as Json;
}
function fixtureLines(name: string): Json[] {
  return fixture(name)
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Json);
}

/** How the fake answers a chat or generate request. */
export type OllamaBehaviour =
  | {
      kind: "ok";
      /** The answer text, sent in `chunks` pieces when streaming. */
      text?: string;
      chunks?: number;
      /** `done_reason` of the last object; null leaves it out (as the documented plain chat stream does). */
      doneReason?: string | null;
      /** false leaves out `prompt_eval_count` and `eval_count` (Ollama omits zero counts). */
      counts?: boolean;
      /** Answer with the documented tool call (`get_weather`, `{"city":"Tokyo"}`) instead of text. */
      toolCall?: boolean;
      /**
       * A thinking model's reasoning (docs/capabilities/thinking.mdx): `message.thinking` beside
       * `message.content`, or, streamed, a thinking phase (lines with `thinking` and an empty
       * `content`, in `chunks` pieces) before the answer's lines.
       */
      thinking?: string;
    }
  /** Streams `lines` content lines, then resets the connection. */
  | { kind: "reset-after"; lines: number; text?: string }
  /** Streams `lines` content lines, then the documented in-band `{"error": …}` line. */
  | { kind: "error-after"; lines: number; text?: string }
  | { kind: "status"; status: number; body: string };

/** One request the fake received. */
export interface OllamaRequest {
  method: string;
  path: string;
  body: Json;
}

/** A model the fake has pulled. */
export interface FakeOllamaModel {
  /** `model_info["llama.context_length"]`; default 8192 (as in the documented answer). */
  contextLength?: number;
  /** Adds `num_ctx <n>` to `parameters` (a Modelfile `PARAMETER num_ctx`). */
  modelfileNumCtx?: number;
  /** Replaces `template` (e.g. with a Jinja chat template). */
  template?: string;
}

/** A running fake. */
export interface FakeOllama {
  /** `http://127.0.0.1:PORT` (Ollama's base_url is the server root). */
  baseUrl: string;
  requests: OllamaRequest[];
  /** The requests to `path`. */
  requestsTo(path: string): OllamaRequest[];
  behave(behaviour: OllamaBehaviour): void;
  close(): Promise<void>;
}

/** The default answer text. */
export const OLLAMA_TEXT = "The sky is blue because of Rayleigh scattering.";
/** The counts of the documented final chat line. */
export const CHAT_COUNTS = { prompt: 26, completion: 282 };
/** The counts of the documented non-streaming chat answer. */
export const CHAT_WHOLE_COUNTS = { prompt: 26, completion: 298 };
/** The counts of the documented final generate line. */
export const GENERATE_COUNTS = { prompt: 26, completion: 259 };
/** The counts of the documented non-streaming generate answer. */
export const GENERATE_WHOLE_COUNTS = { prompt: 17, completion: 63 };
/** The counts of the documented tool-call answer (streamed). */
export const TOOL_COUNTS = { prompt: 169, completion: 15 };

function pieces(text: string, count: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / count));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The vector the documented single-input `/api/embed` answer holds, and its `prompt_eval_count`. */
export const EMBED_FIXTURE = JSON.parse(fs.readFileSync(new URL("embed.json", FIXTURES), "utf8")) as {
  embeddings: number[][];
  prompt_eval_count: number;
};
/** The two vectors of the documented multiple-input answer. */
export const EMBED_MULTIPLE_FIXTURE = JSON.parse(fs.readFileSync(new URL("embed-multiple.json", FIXTURES), "utf8")) as {
  embeddings: number[][];
};

/**
 * The `/api/embed` answer to `body`: one text → the documented
 * single-input answer (with `prompt_eval_count`); a list → the documented
 * multiple-input answer's vectors, cycled over the inputs, without counts
 * (as documented). `dimensions` keeps that many leading values; `model` is the one asked for.
 */
function embedAnswer(body: Json): Json {
  const dimensions = typeof body.dimensions === "number" ? body.dimensions : undefined;
  const cut = (vector: number[]) => (dimensions ? vector.slice(0, dimensions) : vector);
  if (typeof body.input === "string") {
    const answer = fixtureJson("embed.json");
    return { ...answer, model: body.model, embeddings: (answer.embeddings as number[][]).map(cut) };
  }
  const answer = fixtureJson("embed-multiple.json");
  const vectors = answer.embeddings as number[][];
  const inputs = Array.isArray(body.input) ? body.input : [];
  return { ...answer, model: body.model, embeddings: inputs.map((_, i) => cut(vectors[i % vectors.length]!)) };
}

/** Starts the fake with `models` pulled (default: `llama3.2`). */
export async function startFakeOllama(
  models: Record<string, FakeOllamaModel> = { "llama3.2": {} },
): Promise<FakeOllama> {
  let behaviour: OllamaBehaviour = { kind: "ok" };
  const requests: OllamaRequest[] = [];
  const [chatLine, chatFinal] = fixtureLines("chat-stream.ndjson") as [Json, Json];
  const [toolLine, toolFinal] = fixtureLines("chat-tools-stream.ndjson") as [Json, Json];
  const [generateLine, generateFinal] = fixtureLines("generate-stream.ndjson") as [Json, Json];
  const errorLine = fixtureLines("stream-error.ndjson").at(-1)!;

  function showAnswer(model: FakeOllamaModel): Json {
    const show = fixtureJson("show-response.json");
    const info = show.model_info as Json;
    info["llama.context_length"] = model.contextLength ?? 8192;
    if (model.modelfileNumCtx)
      show.parameters = `num_ctx                        ${model.modelfileNumCtx}\n${String(show.parameters)}`;
    if (model.template !== undefined) show.template = model.template;
    return show;
  }

  function tagsAnswer(): Json {
    const tags = fixtureJson("tags-response.json");
    const [entry] = tags.models as Json[];
    tags.models = Object.keys(models).map((name) => ({ ...entry, name: `${name}:latest`, model: `${name}:latest` }));
    return tags;
  }

  /** The objects of an answer: content lines, then the final one. */
  function answerObjects(
    path: string,
    model: string,
    current: OllamaBehaviour & { kind: "ok" },
    stream: boolean,
  ): Json[] {
    const chat = path === "/api/chat";
    if (chat && current.toolCall) {
      if (!stream) return [{ ...fixtureJson("chat-tools-response.json"), model }];
      return [
        { ...toolLine, model },
        { ...toolFinal, model },
      ];
    }
    const text = current.text ?? OLLAMA_TEXT;
    const parts = stream ? pieces(text, current.chunks ?? 6) : [text];
    const lineShape = chat ? chatLine : generateLine;
    const finish = (object: Json): Json => {
      if (current.doneReason === null) delete object.done_reason;
      else if (current.doneReason !== undefined) object.done_reason = current.doneReason;
      if (current.counts === false) {
        delete object.prompt_eval_count;
        delete object.eval_count;
      }
      return object;
    };
    if (!stream) {
      const message = {
        role: "assistant",
        content: text,
        ...(current.thinking !== undefined ? { thinking: current.thinking } : {}),
      };
      const whole = chat
        ? { ...fixtureJson("chat-response.json"), model, message }
        : { ...fixtureJson("generate-response.json"), model, response: text };
      return [finish(whole)];
    }
    const final = finish({ ...(chat ? chatFinal : generateFinal), model });
    const lines = parts.map((part) =>
      chat
        ? { ...lineShape, model, message: { role: "assistant", content: part, images: null } }
        : { ...lineShape, model, response: part },
    );
    const thinkingLines =
      chat && current.thinking
        ? pieces(current.thinking, current.chunks ?? 6).map((part) => ({
            ...lineShape,
            model,
            message: { role: "assistant", content: "", thinking: part },
          }))
        : [];
    return [...thinkingLines, ...lines, final];
  }

  const server = http.createServer(
    handled(async (req, res) => {
      let raw = "";
      for await (const piece of req) raw += piece;
      let body: Json;
      try {
        body = raw ? (JSON.parse(raw) as Json) : {};
      } catch {
        res.writeHead(400, { "content-type": "application/json; charset=utf-8" });
        res.end('{"error":"invalid character"}');
        return;
      }
      const path = req.url ?? "";
      requests.push({ method: req.method ?? "", path, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify(value));
      };
      const modelName = typeof body.model === "string" ? body.model : "";
      const model = models[modelName.replace(/:latest$/, "")];
      const notFound = () =>
        json(404, {
          error: (JSON.parse(fixture("error-model-not-found.json").replace("llama3.2", modelName)) as { error: string })
            .error,
        });
      if (path === "/api/tags" && req.method === "GET") return json(200, tagsAnswer());
      if (path === "/api/show" && req.method === "POST") return model ? json(200, showAnswer(model)) : notFound();
      if (path !== "/api/chat" && path !== "/api/generate" && path !== "/api/embed")
        return json(404, { error: "404 page not found" });
      if (!model) return notFound();
      const current = behaviour;
      if (current.kind === "status") {
        res.writeHead(current.status, { "content-type": "application/json; charset=utf-8" });
        res.end(current.body);
        return;
      }
      if (path === "/api/embed") {
        const valid =
          typeof body.input === "string" ||
          (Array.isArray(body.input) && body.input.every((item) => typeof item === "string"));
        return valid ? json(200, embedAnswer(body)) : json(400, { error: "invalid input type" });
      }
      const stream = body.stream !== false; // Ollama streams unless told not to
      if (current.kind === "ok" && !stream) return json(200, answerObjects(path, modelName, current, false)[0]);
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      if (current.kind === "ok") {
        for (const object of answerObjects(path, modelName, current, true)) res.write(`${JSON.stringify(object)}\n`);
        res.end();
        return;
      }
      const lines = answerObjects(
        path,
        modelName,
        { kind: "ok", text: current.text ?? OLLAMA_TEXT, chunks: current.lines + 3 },
        true,
      ).slice(0, current.lines);
      for (const object of lines) res.write(`${JSON.stringify(object)}\n`);
      if (current.kind === "error-after") {
        res.end(`${JSON.stringify(errorLine)}\n`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      res.socket?.resetAndDestroy();
    }),
  );
  const listening = await listenOnLoopback(server);
  const { port } = listening;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    behave(next) {
      behaviour = next;
    },
    async close() {
      await listening.close();
    },
  };
}
