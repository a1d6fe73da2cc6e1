/**
 * A tool convention: how a model family was trained to read function
 * definitions in its prompt and to write function calls in its answer, for
 * raw-completion backends that have no tool calling of their own. The
 * request side follows OpenAI's Chat Completions `tools` / `tool_choice`
 * (https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools);
 * each convention module names the model documentation it follows.
 */

/** One OpenAI function tool, as the client sent it (unknown keys kept, so it renders as sent). */
export interface FunctionTool {
  type: "function";
  function: {
    name: string;
    description?: string;
    /** The arguments' JSON Schema. */
    parameters?: Record<string, unknown>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * OpenAI's `tool_choice`: `none` (no call), `auto` (the model decides; the
 * default), `required` (at least one call), or one named function.
 */
export type ToolChoice = "none" | "auto" | "required" | { type: "function"; function: { name: string } };

/** A function call read from the model's text. */
export interface ParsedToolCall {
  name: string;
  /** The arguments as a JSON string (the wire form of `function.arguments`). */
  arguments: string;
  /** The exact source text of the call (with the whitespace before it), for returning it as text. */
  text: string;
}

/** A call block that could not be read (malformed JSON, no name, unclosed). */
export interface MalformedToolCall {
  /** Why it could not be read, for the logged warning. */
  problem: string;
  /** The exact source text of the block (with the whitespace before it). */
  text: string;
}

/** One block the stream parser found: a call, or a block that is not one. */
export type ToolCallBlock = ParsedToolCall | MalformedToolCall;

/** What a stream parser has to say after one piece of text. */
export interface ToolStreamOutput {
  /** Text to stream now as `content` (before the first call marker; or, at `end()`, the text after the calls). */
  content?: string;
  /** Call blocks completed by this piece, in order. */
  calls?: ToolCallBlock[];
}

/**
 * Reads a streamed answer: text is passed on as it arrives until the
 * convention's call marker appears; from there on the text is buffered,
 * and each call is handed out once complete. Text after the first marker
 * that is not a call comes out at `end()`.
 */
export interface ToolStreamParser {
  /** Feeds the next piece of the model's text. */
  push(textDelta: string): ToolStreamOutput;
  /** The answer is over: flushes held text and reads an unclosed last block. */
  end(): ToolStreamOutput;
}

/** A whole answer read at once. */
export interface ToolParseResult {
  /** The text around the calls (malformed blocks kept as text), or "" when there is none. */
  content: string;
  /** The calls that could be read, in order. */
  calls: ParsedToolCall[];
  /** The first malformed block's problem, when there was one. */
  problem?: string;
}

/** A tool convention. */
export interface ToolConvention {
  /** Its name (`hermes`, …), as `PromptFormat.toolConvention` and `llm-relay formats` show it. */
  readonly name: string;
  /** One line for `llm-relay formats`. */
  readonly description: string;
  /** The documentation the convention follows (model card or reference chat template). */
  readonly reference: string;
  /**
   * Where the rendered tools go in the system turn: `after` the system
   * message's text (after a blank line; the default) or `before` it (the
   * text ends with its own blank line).
   */
  readonly placement?: "before" | "after";
  /**
   * How the history's tool results become turns: `user` (the default):
   * consecutive results share one user turn written by `renderResults`;
   * `tool`: each result is a turn of its own with the role `tool`, written
   * by `renderResults([result])`, which the format renders in the role the
   * model knows (Llama 3.1's `ipython`, Mistral's `[TOOL_RESULTS]`).
   */
  readonly resultTurns?: "user" | "tool";
  /**
   * A text that a prompt rendered by a model's own chat template (`jinja:`,
   * `auto`) with `tools` holds when the template teaches this convention
   * (Hermes: `<tool_call>`); such answers are read with it.
   */
  readonly promptMarker?: string;
  /**
   * The text that describes `tools` to the model, to put in the system
   * turn; null when nothing is to be rendered (`tool_choice: "none"`, no
   * function tools).
   * @throws RelayError 400 when `tool_choice` names a function that is not among `tools`
   */
  renderTools(tools: readonly FunctionTool[], toolChoice: ToolChoice | undefined): string | null;
  /** An assistant's earlier tool call, as the model writes one (for the history). */
  renderCall(call: { name: string; arguments: string | undefined }): string;
  /**
   * All the tool calls of one assistant message, when the convention writes
   * them together (Mistral's one `[TOOL_CALLS]` array); absent: each call
   * by `renderCall`, one per line.
   */
  renderCalls?(calls: readonly { name: string; arguments: string | undefined }[]): string;
  /** Consecutive tool results (`role: "tool"` messages), as the model reads them (one user turn). */
  renderResults(results: readonly string[]): string;
  /** Reads a whole answer. */
  parse(text: string): ToolParseResult;
  /** A parser for one streamed answer. */
  createStreamParser(): ToolStreamParser;
}

/** Whether a block is a readable call. */
export function isParsedCall(block: ToolCallBlock): block is ParsedToolCall {
  return "name" in block;
}
