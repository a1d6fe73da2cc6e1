/** The request bodies of the proxy benchmark (`--body small|aider`). */
import { readFileSync } from "node:fs";

/** The default request body (`--body small`): a system and a user message. */
export function smallBody(stream: boolean): string {
  return JSON.stringify({
    model: "mock",
    stream,
    messages: [
      { role: "system", content: "You are a helpful assistant. Answer briefly." },
      { role: "user", content: "Say something about foxes and dogs in twenty words." },
    ],
  });
}

/** The aider request of the shared fixture (`--body aider`), sent to the model `mock`. */
export function aiderBody(stream: boolean): string {
  const url = new URL("../../../shared/fixtures/aider-chat-request.json", import.meta.url);
  const body = JSON.parse(readFileSync(url, "utf8")) as Record<string, unknown>;
  return JSON.stringify({ ...body, model: "mock", stream });
}
