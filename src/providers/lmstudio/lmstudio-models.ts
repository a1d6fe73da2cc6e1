/**
 * A model's context window from LM Studio's REST API:
 * `GET /api/v0/models/{model}` → `{ "id", "state", "max_context_length", … }`
 * (https://lmstudio.ai/docs/api/rest-api, "GET /api/v0/models/{model}",
 * LM Studio 0.3.6+). `max_context_length` is the most the model supports;
 * LM Studio may have loaded it with a smaller window (set `context_window`
 * in the config to that). Example body: test/fixtures/protocols/lmstudio/.
 */
import { RelayError } from "../../protocol/errors.js";
import type { UpstreamClient } from "../http/upstream-client.js";

/** Longest wait for the model lookup, in ms. */
export const LMSTUDIO_DISCOVERY_TIMEOUT_MS = 15_000;

/** The fields of `GET /api/v0/models/{model}` read here. */
interface LmStudioModel {
  max_context_length?: number;
}

/**
 * The `max_context_length` of `model`, in tokens, or null when LM Studio
 * answered without it (an older version without the REST API answers 404).
 * @param client HTTP access to the server root
 * @throws RelayError when LM Studio could not be asked (down, timeout, server error)
 */
export async function lmStudioContextLength(
  client: UpstreamClient,
  model: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<number | null> {
  let info: LmStudioModel;
  try {
    info = await client.getJson<LmStudioModel>(`/api/v0/models/${model.split("/").map(encodeURIComponent).join("/")}`, {
      signal,
      timeoutMs,
    });
  } catch (error) {
    if (error instanceof RelayError && error.status === 404) return null;
    throw error;
  }
  const value = info.max_context_length;
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
}
