/**
 * Ollama's "Load a model" and "Unload a model" requests
 * (https://github.com/ollama/ollama/blob/main/docs/api.md): `POST /api/chat`
 * with an empty (or no) `messages`, `POST /api/generate` with an empty (or no)
 * `prompt`, `keep_alive: 0` to unload. Ollama's own CLI (`ollama run`) sends one
 * before the first turn. A proxy has nothing to load: it answers at once, with
 * no exchange and nothing recorded, one object with `done: true` and
 * `done_reason` `load` (or `unload`).
 */
import { answerHead, type OllamaEndpoint } from "./from-chat.js";

/** A load or unload request: the model it names, and whether it unloads. */
export interface OllamaLoadRequest {
  model: string;
  unload: boolean;
}

/** The load request `body` is, or null when it asks for a generation (or is not even an object with a model). */
export function loadRequestOf(endpoint: OllamaEndpoint, body: unknown): OllamaLoadRequest | null {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return null;
  const { model, messages, prompt, images, keep_alive: keepAlive } = body as Record<string, unknown>;
  if (typeof model !== "string" || model === "") return null;
  const empty =
    endpoint === "chat"
      ? messages === undefined || messages === null || (Array.isArray(messages) && messages.length === 0)
      : (prompt === undefined || prompt === null || prompt === "") && (!Array.isArray(images) || images.length === 0);
  if (!empty) return null;
  return { model, unload: keepAlive === 0 || keepAlive === "0" || keepAlive === "0s" };
}

/** The answer to a load request (one object; with a newline, so NDJSON readers take it too). */
export function loadAnswer(endpoint: OllamaEndpoint, load: OllamaLoadRequest): string {
  const head = answerHead({ model: load.model });
  const output = endpoint === "chat" ? { message: { role: "assistant", content: "" } } : { response: "" };
  return `${JSON.stringify({ ...head, ...output, done_reason: load.unload ? "unload" : "load", done: true })}\n`;
}
