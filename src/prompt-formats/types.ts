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
   * (llama.cpp, KoboldCpp, node-llama-cpp) get `false`: the prompt then
   * lacks only its leading BOS text; a BOS the template writes later (Llama
   * 2's `<s>` before every user turn) stays. Default `true`.
   */
  bos?: boolean;
  /**
   * The request's `tools` (OpenAI function definitions), passed to
   * `jinja:` and `auto` templates as the `tools` variable, as Hugging Face
   * does. Named formats ignore it: for them the raw-completion engine
   * renders the tools into the system turn with the format's
   * `toolConvention` (`prompt-formats/tools/`).
   */
  tools?: readonly unknown[];
}

/** One named prompt format. */
export interface PromptFormat {
  /** Registry name (`chatml`, `llama3`, …) or `jinja:<file>` / `auto:<source>`. */
  readonly name: string;
  /** One line for `llm-relay formats`. */
  readonly description: string;
  /** Stop sequences that end the assistant's turn; always sent to the backend (with the client's own). */
  readonly stop: readonly string[];
  /**
   * BOS token text the format writes at the start of every prompt, or null
   * when its reference template writes none (the model's tokenizer may
   * still add one when tokenizing).
   */
  readonly bos: string | null;
  /** EOS token text of the model family's tokenizer (`eos_token`), or null when unknown. */
  readonly eos: string | null;
  /** The reference chat template the format follows (HF repo and file), for `llm-relay formats`. */
  readonly reference?: string;
  /**
   * The tool convention (`prompt-formats/tools/registry.ts`) the format's
   * models were trained on (`hermes` for ChatML), or absent when none is
   * attached: then a request's `tools` are not rendered and the answer is
   * not read for calls.
   */
  readonly toolConvention?: string;
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
  /** Where the format comes from: the model family's reference template (HF repo and file). */
  reference?: string;
  /** The tool convention attached to the format (`hermes`), when there is one. */
  toolConvention?: string;
}
