/**
 * The package root's functions (`generateCompletion`, …): the methods of a
 * default client created on first use — over HTTP to `$LLM_RELAY_URL` when
 * it is set, else in-process (`loadConfig()`: `$LLM_RELAY_CONFIG` or
 * `./llm-relay.yaml`, else `echo`; logs.db at `$LLM_RELAY_DB` or the default
 * data dir). It is closed when the process is about to exit (`beforeExit`);
 * every call's record is already written by the time the call resolves.
 */
import { RelayClient } from "./client.js";
import type {
  ChatMessage,
  CompletionOptions,
  CompletionStream,
  LLMClient,
  LLMResponse,
  SyncCompletionOptions,
} from "./types.js";

let current: LLMClient | null = null;

/** The default client, created on first use. */
export function defaultClient(): LLMClient {
  if (current) return current;
  const url = process.env.LLM_RELAY_URL;
  const client = new RelayClient(url ? { baseURL: url } : {}, null);
  current = client;
  process.once("beforeExit", () => {
    if (current === client) current = null;
    void client.close();
  });
  return client;
}

/** Closes the default client, if one was created (the next call creates a new one). */
export async function closeDefaultClient(): Promise<void> {
  const client = current;
  current = null;
  await client?.close();
}

/**
 * Asks for a completion of one user message, with the default client.
 * @param prompt the user message
 * @returns the answer; never rejects (a failure gives `success: false` and `error`)
 */
export function generateCompletion(prompt: string, options?: CompletionOptions): Promise<LLMResponse> {
  return defaultClient().generateCompletion(prompt, options);
}

/**
 * Asks for the next assistant message of a conversation, with the default client.
 * @param messages the conversation so far (roles `system`, `user`, `assistant`, `tool`)
 * @returns the answer; never rejects
 */
export function generateCompletionWithMessages(
  messages: readonly ChatMessage[],
  options?: CompletionOptions,
): Promise<LLMResponse> {
  return defaultClient().generateCompletionWithMessages(messages, options);
}

/**
 * Streams the answer with the default client: `for await (const delta of stream)` gives the text as it
 * arrives; `await stream.response` gives the final {@link LLMResponse}. Leaving the loop early cancels the call.
 * @param messagesOrPrompt a prompt (one user message) or the conversation so far
 */
export function streamCompletion(
  messagesOrPrompt: string | readonly ChatMessage[],
  options?: CompletionOptions,
): CompletionStream {
  return defaultClient().streamCompletion(messagesOrPrompt, options);
}

/**
 * Blocking {@link generateCompletion}: runs it in a worker thread (synckit) and waits.
 * For scripts and CLIs that cannot await — never inside a server, where it blocks every other request.
 * Accepts every option but `signal` (use `timeoutMs`).
 */
export function generateCompletionSync(prompt: string, options?: SyncCompletionOptions): LLMResponse {
  return defaultClient().generateCompletionSync(prompt, options);
}

/**
 * Blocking {@link generateCompletionWithMessages}: runs it in a worker thread (synckit) and waits.
 * For scripts and CLIs that cannot await — never inside a server. Accepts every option but `signal`.
 */
export function generateCompletionWithMessagesSync(
  messages: readonly ChatMessage[],
  options?: SyncCompletionOptions,
): LLMResponse {
  return defaultClient().generateCompletionWithMessagesSync(messages, options);
}
