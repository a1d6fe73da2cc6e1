/**
 * The `ollama` provider's raw mode (a deployment with `prompt_format`): a
 * {@link RawBackend} over `POST /api/generate` with `raw: true` (docs/api.md,
 * "Generate a completion", "Request (Raw Mode)"): the prompt rendered by
 * the prompt format goes as is, Ollama applies no template. The answer's
 * text is in `response`; the last object carries `done_reason` and the counts.
 * A constrained answer (`raw/constrained.ts`) goes as `format`: the JSON
 * schema, or `"json"` for any JSON (`json_object`).
 */
import type { Deployment } from "../../config/schema.js";
import type { RawBackend, RawDelta, RawDiscovery, RawFinishReason, RawRequest, RawResult } from "../raw/raw-backend.js";
import { ollamaObjects, postToOllama, readOllamaObject, type OllamaTransport } from "./ollama-http.js";
import { configuredNumCtx, resolveNumCtx } from "./ollama-model-info.js";
import { ollamaOptions, withExtraBody } from "./ollama-options.js";
import type { OllamaGenerateRequest, OllamaGenerateResponse } from "./ollama-types.js";

function finishReason(doneReason: string | undefined): RawFinishReason {
  return doneReason === "length" ? "length" : "stop";
}

/**
 * Creates the backend.
 * @param transport the HTTP client, the /api/show cache and the provider context
 */
export function createOllamaGenerateBackend(deployment: Deployment, transport: OllamaTransport): RawBackend {
  const { client, info } = transport;

  async function numCtx(model: string, signal: AbortSignal): Promise<number> {
    return resolveNumCtx(deployment, configuredNumCtx(deployment) === null ? await info.facts(model, signal) : null);
  }

  async function body(request: RawRequest, stream: boolean): Promise<OllamaGenerateRequest> {
    const model = request.body.model;
    const options = ollamaOptions(
      request.params,
      await numCtx(model, request.signal),
      deployment,
      (request.body as Record<string, unknown>).options,
    );
    const constraint = request.constraint ?? null;
    const format = constraint ? (constraint.schema ?? "json") : undefined;
    return withExtraBody<OllamaGenerateRequest>(
      { model, prompt: request.prompt, raw: true, stream, options, ...(format !== undefined ? { format } : {}) },
      deployment,
    );
  }

  return {
    target: client.origin,
    // Ollama tokenizes a raw prompt with special tokens, adding the model's BOS itself.
    addsBos: true,
    // `/api/generate` takes `format` (a JSON schema or "json").
    constrainsOutput: true,

    /** Rejects when /api/show could not be asked (so the caller asks again next time). */
    async discover(signal: AbortSignal): Promise<RawDiscovery> {
      const model = deployment.model;
      if (model === undefined) return { contextWindow: configuredNumCtx(deployment) };
      const facts = await info.facts(model, signal);
      if (facts === null) throw new Error(`POST /api/show for '${model}' failed on ${client.origin}`);
      return { contextWindow: resolveNumCtx(deployment, facts), template: facts.template };
    },

    async complete(request: RawRequest): Promise<RawResult> {
      const sent = await body(request, false);
      const response = await postToOllama(transport, "/api/generate", sent, sent.model, request);
      const answer = await readOllamaObject<OllamaGenerateResponse>(
        transport,
        response,
        (object) => typeof object.response === "string",
      );
      return {
        text: answer.response ?? "",
        finishReason: finishReason(answer.done_reason),
        promptTokens: answer.prompt_eval_count ?? null,
        completionTokens: answer.eval_count ?? null,
      };
    },

    async *stream(request: RawRequest): AsyncIterable<RawDelta> {
      const sent = await body(request, true);
      const response = await postToOllama(transport, "/api/generate", sent, sent.model, request);
      let done = false;
      for await (const object of ollamaObjects<OllamaGenerateResponse>(transport, response)) {
        if (done) continue; // read to the end, keeping the connection reusable
        if (object.done) {
          done = true;
          yield {
            ...(object.response ? { text: object.response } : {}),
            finishReason: finishReason(object.done_reason),
            promptTokens: object.prompt_eval_count ?? null,
            completionTokens: object.eval_count ?? null,
          };
        } else if (object.response) {
          yield { text: object.response };
        }
      }
    },

    async close(): Promise<void> {
      await client.close();
    },
  };
}
