/**
 * The body a client of each inbound protocol would have sent for a chat
 * history (what the record keeps as `prompt_json` for a protocol other than
 * chat): Anthropic Messages, OpenAI Responses, Ollama `/api/chat`, Gemini
 * `generateContent`. Text messages only.
 */
import type { ChatMessage } from "../../src/protocol/chat-request.js";
import type { BenchProtocol } from "./profiles.js";

const text = (m: ChatMessage): string => (typeof m.content === "string" ? m.content : "");

/**
 * The client's body in `protocol` for `messages` (the first may be the system prompt); null for `chat`,
 * whose body is the chat request itself.
 */
export function receivedBody(
  protocol: BenchProtocol["name"],
  model: string,
  messages: readonly ChatMessage[],
  stream: boolean,
): Record<string, unknown> | null {
  const system = messages[0]?.role === "system" ? text(messages[0]) : null;
  const turns = messages.filter((m) => m.role !== "system");
  switch (protocol) {
    case "chat":
      return null;
    case "messages": // https://docs.anthropic.com/en/api/messages
      return {
        model,
        max_tokens: 4096,
        ...(system !== null ? { system } : {}),
        messages: turns.map((m) => ({ role: m.role, content: text(m) })),
        stream,
      };
    case "responses": // https://platform.openai.com/docs/api-reference/responses/create
      return {
        model,
        ...(system !== null ? { instructions: system } : {}),
        input: turns.map((m) => ({ role: m.role, content: text(m) })),
        stream,
      };
    case "ollama": // https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion
      return { model, messages: messages.map((m) => ({ role: m.role, content: text(m) })), stream };
    case "gemini": // https://ai.google.dev/api/generate-content
      return {
        model,
        ...(system !== null ? { systemInstruction: { parts: [{ text: system }] } } : {}),
        contents: turns.map((m) => ({ role: m.role === "assistant" ? "model" : "user", parts: [{ text: text(m) }] })),
      };
  }
}
