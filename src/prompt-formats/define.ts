/**
 * Builds a named `PromptFormat` from a renderer of prepared turns: the
 * common part (message preparation, the BOS option) lives here, each
 * format module only writes its own markup.
 */
import type { ChatMessage } from "../protocol/chat-request.js";
import { prepareChat, type PrepareOptions, type PreparedChat } from "./chat-turns.js";
import { withoutLeadingBos } from "./leading-bos.js";
import type { ToolConvention } from "./tools/types.js";
import type { PromptFormat, RenderOptions } from "./types.js";

/** The special-token texts a renderer writes. */
export interface RenderTokens {
  /**
   * The BOS text, or "" when the format has none. Always the real text,
   * also when the backend adds BOS itself: `render` then drops only the
   * leading one (`withoutLeadingBos`), so a per-turn BOS stays.
   */
  bos: string;
  /** The EOS text, or "" when the format has none. */
  eos: string;
}

/** What a format module supplies. */
export interface NamedFormatSpec {
  name: string;
  description: string;
  stop: readonly string[];
  bos: string | null;
  eos: string | null;
  /** The reference template (HF repo and file). */
  reference: string;
  /** How the messages are shaped before rendering. */
  prepare?: PrepareOptions;
  /**
   * The tool convention the format's models were trained on: a request's
   * `tools` are offered with it, and the history's calls and results are
   * written in it (default for the history: Hermes). Shown as
   * `PromptFormat.toolConvention`.
   */
  toolConvention?: ToolConvention;
  /** Writes the prompt: the turns, then the open prefix turn or the generation prompt. */
  readonly renderTurns: (chat: PreparedChat, tokens: RenderTokens) => string;
}

/**
 * A `PromptFormat` that prepares the messages (`prepareChat`) and hands them
 * to `spec.renderTurns`; with `{ bos: false }` the rendering loses exactly
 * its leading BOS text.
 */
export function defineNamedFormat(spec: NamedFormatSpec): PromptFormat {
  const { renderTurns, prepare, toolConvention, ...info } = spec;
  const shaping: PrepareOptions = { ...prepare, ...(toolConvention ? { toolConvention } : {}) };
  return {
    ...info,
    ...(toolConvention ? { toolConvention: toolConvention.name } : {}),
    render(messages: readonly ChatMessage[], options: RenderOptions = {}): string {
      const tokens: RenderTokens = { bos: spec.bos ?? "", eos: spec.eos ?? "" };
      const prompt = renderTurns(prepareChat(messages, shaping), tokens);
      return options.bos === false ? withoutLeadingBos(prompt, spec.bos) : prompt;
    },
  };
}
