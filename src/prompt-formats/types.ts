/**
 * A prompt format: how a chat (system, user, assistant and tool messages)
 * becomes the single prompt string a raw-completion model was trained on.
 */
import type { ChatMessage } from "../protocol/chat-request.js";

/** Options of one rendering. */
export interface RenderOptions {
  /**
   * Whether to write the BOS token text (e.g. `<s>`, `<|begin_of_text|>`)
   * at the start. Backends that add BOS themselves when tokenizing
   * (llama.cpp, KoboldCpp, node-llama-cpp) get `false`; default `true`.
   */
  bos?: boolean;
}

/** One named prompt format. */
export interface PromptFormat {
  /** Registry name (`chatml`, `llama3`, …) or `jinja:<file>` / `auto:<source>`. */
  readonly name: string;
  /** One line for `llm-relay formats`. */
  readonly description: string;
  /** Stop sequences that end the assistant's turn; always sent to the backend (with the client's own). */
  readonly stop: readonly string[];
  /** BOS token text, or null when the format has none. */
  readonly bos: string | null;
  /** EOS token text, or null. */
  readonly eos: string | null;
  /**
   * Renders the messages into a prompt that ends where the assistant's
   * answer begins. When the last message is an assistant message, its text
   * is left open (a prefix the model continues) instead of being closed.
   * @throws RelayError 400 when the messages cannot be rendered in this format (e.g. a role the template rejects)
   */
  render(messages: readonly ChatMessage[], options?: RenderOptions): string;
}

/** A model's own chat template, as discovered from its backend or GGUF metadata. */
export interface DiscoveredTemplate {
  /** The Jinja source (`tokenizer.chat_template`). */
  template: string;
  /** Where it came from: `llamacpp /props`, `ollama /api/show`, `gguf`. */
  source: string;
  bosToken?: string | null;
  eosToken?: string | null;
}

/** One row of `llm-relay formats` and `GET /internal/prompt-formats`. */
export interface PromptFormatInfo {
  name: string;
  description: string;
  stop: readonly string[];
  bos: string | null;
  eos: string | null;
}
