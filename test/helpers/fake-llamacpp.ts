/**
 * A fake llama.cpp `llama-server` (native API): a real HTTP server on
 * 127.0.0.1 that replays the payloads captured from build b4747 in
 * ../shared/fixtures/protocols/llama-server.txt: `GET /health`, `GET /props`,
 * `POST /tokenize`, and `POST /completion` (and `POST /infill`, answered alike), whose stream is `data:` events
 * ending with a `stop: true` event carrying the counts, settings and
 * timings, with no `[DONE]`. Invalid JSON gets the captured HTTP 500; a
 * loading server answers every path with 503 "Loading model".
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fakeTokenize, fieldText } from "./fake-tokenizer.js";
import { firstLine, readCapture, section } from "./protocol-capture.js";
import { handled } from "./async-handler.js";

const capture = readCapture("llama-server.txt");
const jsonHeaders = Object.fromEntries(
  section(capture, "GET /health").headers.filter(([name]) => !/^(content-length|keep-alive)$/i.test(name)),
);
const streamHeaders = Object.fromEntries(
  section(capture, "POST /completion (native) stream=true").headers.filter(
    ([name]) => !/^(transfer-encoding|keep-alive)$/i.test(name),
  ),
);
const HEALTH_OK = firstLine(section(capture, "GET /health"), "{");
const BAD_JSON = firstLine(section(capture, "Error: POST /v1/chat/completions bad JSON"), "{");
const NOT_FOUND = firstLine(section(capture, "Error: unknown path"), "{");
/** The captured non-streamed answer; the stream's last event has the same fields (its capture is cut short). */
const FINAL_TEMPLATE = JSON.parse(firstLine(section(capture, "POST /completion (native) stream=false"), "{")) as Record<
  string,
  unknown
>;
/** The captured stream's first event, e.g. `{"index":0,"content":",","tokens":[432],"stop":false,…}`. */
const EVENT_TEMPLATE = JSON.parse(
  firstLine(section(capture, "POST /completion (native) stream=true"), "data: ").slice("data: ".length),
) as Record<string, unknown>;
/** `/props` as captured, up to where the capture cut it: inside `chat_template`. */
const PROPS_PREFIX = firstLine(section(capture, "GET /props"), "{").split('"chat_template":')[0]!;
/** The server's error body while loading (capture README). */
export const LOADING_BODY = '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}';

/**
 * llama.cpp's ChatML fallback template (common/chat.cpp `CHATML_TEMPLATE_SRC`), which the
 * captured `/props` reports for a model without a template (its start is in the capture).
 */
export const LLAMACPP_CHATML_FALLBACK =
  "{%- for message in messages -%}\n  {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' -}}\n{%- endfor -%}\n" +
  "{%- if add_generation_prompt -%}\n  {{- '<|im_start|>assistant\\n' -}}\n{%- endif -%}";

/** The captured answer text, split as the captured stream split it (one token per event). */
export const CAPTURED_PIECES = [
  ",",
  " there",
  " was",
  " a",
  " little",
  " girl",
  " named",
  " Lily",
  ".",
  " She",
  " loved",
  " to",
  " play",
];

/** How the fake behaves. */
export interface LlamaFakeOptions {
  /** Generated tokens' text, one stream event each (cut to `n_predict`). */
  pieces: string[];
  /** `stop_type` when the answer was not cut by `n_predict` (then it is `limit`). */
  stopType: "eos" | "word";
  /** `default_generation_settings.n_ctx` of `/props`. */
  nCtx: number;
  /** `chat_template` of `/props`. */
  chatTemplate: string;
  /** More `/props` fields (e.g. `bos_token`, `eos_token` of newer builds). */
  extraProps: Record<string, unknown>;
  /** Every path answers 503 "Loading model". */
  loading: boolean;
  /** `/completion` answers this status and body instead. */
  completionError: { status: number; body: string } | null;
  /** The stream's connection is destroyed after this many events. */
  dieAfterEvents: number | null;
  /**
   * Refuse a prompt of `nCtx` tokens or more as the 2026-09 release does: 400 `exceed_context_size_error`
   * with `n_prompt_tokens` and `n_ctx` (../shared/fixtures/protocols/llama-server-2026-09.txt).
   */
  enforceContext: boolean;
  /**
   * A scripted model: given the prompt, the pieces to answer with (one stream event each), or null for
   * `pieces`. For conversations whose answer depends on the prompt (a tool round trip).
   */
  respond: ((prompt: string) => string[] | null) | null;
}

/** One request the fake received. */
export interface LlamaReceived {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined for GET or invalid JSON). */
  body: Record<string, unknown> | undefined;
}

/** A running fake. */
export interface FakeLlamaCpp {
  /** `http://127.0.0.1:PORT` (the server root, as `base_url`). */
  url: string;
  requests: LlamaReceived[];
  /** The `POST /completion` requests, oldest first. */
  completions(): LlamaReceived[];
  /** Token counts `/tokenize` answered, oldest first. */
  tokenCounts: number[];
  /** Changes the behaviour for the following requests (unset fields keep their defaults). */
  set(options: Partial<LlamaFakeOptions>): void;
  close(): Promise<void>;
}

const DEFAULTS: LlamaFakeOptions = {
  pieces: CAPTURED_PIECES,
  stopType: "eos",
  nCtx: 2048,
  chatTemplate: LLAMACPP_CHATML_FALLBACK,
  extraProps: {},
  loading: false,
  completionError: null,
  dieAfterEvents: null,
  enforceContext: false,
  respond: null,
};

/** The 2026-09 release's answer to a prompt over its window (its counts replaced by the request's); that capture has `###` sections. */
const EXCEED_CONTEXT = JSON.parse(
  fs
    .readFileSync(new URL("../../../shared/fixtures/protocols/llama-server-2026-09.txt", import.meta.url), "utf8")
    .split("\n")
    .find((line) => line.startsWith("{") && line.includes('"exceed_context_size_error"'))!,
) as { error: Record<string, unknown> };

/** llama-server's 400 body for a prompt of `promptTokens` over a window of `nCtx` tokens, in the captured shape. */
export function exceedContextBody(promptTokens: number, nCtx: number): string {
  const message = `request (${promptTokens} tokens) exceeds the available context size (${nCtx} tokens), try increasing it`;
  return JSON.stringify({ error: { ...EXCEED_CONTEXT.error, message, n_prompt_tokens: promptTokens, n_ctx: nCtx } });
}

/** Starts the fake on an ephemeral loopback port. */
export async function startFakeLlamaCpp(initial: Partial<LlamaFakeOptions> = {}): Promise<FakeLlamaCpp> {
  let options: LlamaFakeOptions = { ...DEFAULTS, ...initial };
  const requests: LlamaReceived[] = [];
  const tokenCounts: number[] = [];

  const server = http.createServer(
    handled(async (req, res) => {
      let raw = "";
      for await (const piece of req) raw += piece;
      const path = (req.url ?? "/").split("?")[0]!;
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
      const json = (status: number, text: string) => {
        res.writeHead(status, { ...jsonHeaders, "content-length": Buffer.byteLength(text) });
        res.end(text);
      };
      if (options.loading) return json(503, LOADING_BODY);
      if (badJson) return json(500, BAD_JSON);
      if (req.method === "GET" && path === "/health") return json(200, HEALTH_OK);
      if (req.method === "GET" && path === "/props") return json(200, propsBody(options));
      if (req.method === "POST" && path === "/tokenize") {
        const tokens = fakeTokenize(fieldText(body?.content), body?.add_special === true);
        tokenCounts.push(tokens.length);
        return json(200, JSON.stringify({ tokens }));
      }
      // `/infill` (fill-in-the-middle) answers like `/completion`; its prompt is `input_prefix` + `input_suffix`.
      if (req.method === "POST" && path === "/infill")
        return complete(
          { ...body, prompt: `${fieldText(body?.input_prefix)}${fieldText(body?.input_suffix)}` },
          options,
          res,
          json,
        );
      if (req.method === "POST" && path === "/completion") {
        if (options.completionError) return json(options.completionError.status, options.completionError.body);
        const promptTokens = fakeTokenize(fieldText(body?.prompt), true).length;
        if (options.enforceContext && promptTokens >= options.nCtx)
          return json(400, exceedContextBody(promptTokens, options.nCtx));
        return complete(body ?? {}, options, res, json);
      }
      json(404, NOT_FOUND);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    completions: () => requests.filter((r) => r.path === "/completion"),
    tokenCounts,
    set(next) {
      options = { ...DEFAULTS, ...next };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function propsBody(options: LlamaFakeOptions): string {
  const props = JSON.parse(`${PROPS_PREFIX}"chat_template":null}`) as Record<string, unknown> & {
    default_generation_settings: Record<string, unknown>;
  };
  props.default_generation_settings.n_ctx = options.nCtx;
  props.chat_template = options.chatTemplate;
  return JSON.stringify({ ...props, ...options.extraProps });
}

/** Answers `/completion`: the pieces up to `n_predict`, then the final event / whole answer in the captured shape. */
function complete(
  body: Record<string, unknown>,
  options: LlamaFakeOptions,
  res: http.ServerResponse,
  json: (status: number, text: string) => void,
): void {
  const prompt = fieldText(body.prompt);
  const nPredict = typeof body.n_predict === "number" && body.n_predict >= 0 ? body.n_predict : Infinity;
  const all = options.respond?.(prompt) ?? options.pieces;
  const pieces = all.slice(0, nPredict);
  const evaluated = fakeTokenize(prompt, true).length;
  const stream = body.stream === true;
  const settings = FINAL_TEMPLATE.generation_settings as Record<string, unknown>;
  const final = {
    ...FINAL_TEMPLATE,
    content: stream ? "" : pieces.join(""),
    tokens_predicted: pieces.length,
    tokens_evaluated: evaluated,
    generation_settings: {
      ...settings,
      n_predict: body.n_predict ?? -1,
      max_tokens: body.n_predict ?? -1,
      stop: body.stop ?? [],
      stream,
    },
    prompt: `<s> ${prompt}`,
    stop_type: pieces.length < all.length ? "limit" : options.stopType,
    timings: {
      ...(FINAL_TEMPLATE.timings as Record<string, unknown>),
      prompt_n: evaluated,
      predicted_n: pieces.length,
    },
  };
  if (!stream) return json(200, JSON.stringify(final));
  res.writeHead(200, streamHeaders);
  pieces.forEach((content, i) => {
    if (options.dieAfterEvents !== null && i >= options.dieAfterEvents) return;
    const event = {
      ...EVENT_TEMPLATE,
      content,
      tokens: fakeTokenize(content, false),
      tokens_predicted: i + 1,
      tokens_evaluated: evaluated,
    };
    res.write(`data: ${JSON.stringify(event)}\n\n`);
  });
  if (options.dieAfterEvents !== null) {
    // Let the written events leave before the connection is torn down.
    setTimeout(() => res.socket?.destroy(), 20);
    return;
  }
  res.end(`data: ${JSON.stringify({ ...final, tokens: [], id_slot: 0 })}\n\n`);
}
