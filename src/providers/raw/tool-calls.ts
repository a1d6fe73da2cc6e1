/**
 * Tool calling on a raw-completion backend (issue 19): a request's `tools`
 * rendered into the prompt with the prompt format's tool convention
 * (`prompt-formats/tools/`), and the model's text read back into OpenAI
 * `tool_calls`.
 *
 * The rule for a call that cannot be used (its JSON does not parse, it has
 * no name, its arguments are not an object, or it names a function the
 * request did not offer): it is returned as text, one warning is logged for
 * the answer, and nothing after it is read as a call either. When no call
 * came before it the answer is text only and ends with the backend's own
 * `finish_reason` (`stop`); calls handed out before it stand (a stream
 * cannot take them back) and the answer ends with `tool_calls`. Never an
 * error, never an invented call.
 */
import { randomBytes } from "node:crypto";
import { contentText, type ChatCompletionRequest, type ChatMessage } from "../../protocol/chat-request.js";
import { conventionOfPrompt, getToolConvention } from "../../prompt-formats/tools/registry.js";
import { readToolRequest, selectTools } from "../../prompt-formats/tools/tool-request.js";
import type { ToolCallBlock, ToolConvention, ToolStreamParser } from "../../prompt-formats/tools/types.js";
import { isParsedCall } from "../../prompt-formats/tools/types.js";
import type { PromptFormat } from "../../prompt-formats/types.js";
import { prepareChat } from "../../prompt-formats/chat-turns.js";
import { NO_TOOL_CONVENTION } from "../../prompt-formats/tools/names.js";

/** How one request's tools are handled. */
export interface ToolPlan {
  /** The messages to render (the tools in the system turn for a named format with a convention). */
  messages: readonly ChatMessage[];
  /** The `tools` to hand to a Jinja template (`jinja:` / `auto` formats), else undefined. */
  templateTools?: readonly unknown[];
  /** With `templateTools`: the functions `tool_choice` leaves, for reading the answer (`readingOfTemplate`). */
  templateNames?: ReadonlySet<string>;
  /** The convention to read the answer with, and the functions it may call; null: the answer is text. */
  reading: { convention: ToolConvention; names: ReadonlySet<string> } | null;
}

/**
 * The plan for `body` under `format`: a named format with a convention
 * gets the rendered tools in its system turn (in the first system message,
 * after its text and a blank line, or before it for a convention placed
 * `before`; a new first system turn when there is none) and its
 * answer read for calls; a `jinja:`/`auto` format gets the tools
 * `tool_choice` leaves as the template variable (its answer is read with
 * the convention its rendering shows, `readingOfTemplate`); any other format renders
 * the messages as they are.
 *
 * A deployment's `tool_convention` overrides the format's: a convention name
 * offers the tools and reads the answer with that convention on any format
 * (a `jinja:`/`auto` template then gets no `tools`), and the history's tool
 * calls and results are written in it too (`historyIn`); `none` offers no
 * tools and reads no calls (the history is written as the format writes it).
 * @param toolConvention the deployment's `tool_convention`, or undefined for the format's own
 * @throws RelayError 400 for `tools` / `tool_choice` that are not OpenAI's shape, or a `tool_choice` naming an absent function
 */
export function planTools(format: PromptFormat, body: ChatCompletionRequest, toolConvention?: string): ToolPlan {
  const request = readToolRequest(body);
  const own = format.toolConvention ? getToolConvention(format.toolConvention) : undefined;
  const forced =
    toolConvention === undefined || toolConvention === NO_TOOL_CONVENTION
      ? undefined
      : getToolConvention(toolConvention);
  const messages = forced && forced !== own ? historyIn(forced, body.messages) : body.messages;
  if (!request || toolConvention === NO_TOOL_CONVENTION) return { messages, reading: null };
  const convention = forced ?? own;
  if (!convention) {
    const isTemplate = format.name.startsWith("jinja:") || format.name.startsWith("auto:");
    const selection = isTemplate ? selectTools(request.tools, request.toolChoice) : null;
    return selection
      ? {
          messages,
          templateTools: selection.tools,
          templateNames: new Set(selection.tools.map((tool) => tool.function.name)),
          reading: null,
        }
      : { messages, reading: null };
  }
  const text = convention.renderTools(request.tools, request.toolChoice);
  const selection = selectTools(request.tools, request.toolChoice);
  if (text === null || !selection) return { messages, reading: null };
  return {
    messages: withSystemText(messages, text, convention.placement ?? "after"),
    reading: { convention, names: new Set(selection.tools.map((tool) => tool.function.name)) },
  };
}

/**
 * `messages` with their tool calls and results written out in `convention`,
 * for a format that would write them in another one: the turns
 * `prepareChat` makes with that convention, as plain messages (a result turn
 * of its own becomes a user message, the prefix a final assistant message).
 */
function historyIn(convention: ToolConvention, messages: readonly ChatMessage[]): ChatMessage[] {
  const hasTools = messages.some(
    (message) => message.role === "tool" || message.role === "function" || (message.tool_calls?.length ?? 0) > 0,
  );
  if (!hasTools) return [...messages];
  const { turns, prefix } = prepareChat(messages, { toolConvention: convention });
  const written: ChatMessage[] = turns.map((turn) => ({
    role: turn.role === "tool" ? "user" : turn.role,
    content: turn.text,
  }));
  return prefix === null ? written : [...written, { role: "assistant", content: prefix }];
}

/**
 * How the answer to a prompt rendered by a model's own template with tools
 * is read: with the convention the template taught (`conventionOfPrompt`:
 * the prompt holds its marker, e.g. Hermes' `<tool_call>`), else as text.
 */
export function readingOfTemplate(plan: ToolPlan, prompt: string): ToolPlan["reading"] {
  if (!plan.templateNames) return plan.reading;
  const convention = conventionOfPrompt(prompt);
  return convention ? { convention, names: plan.templateNames } : null;
}

/**
 * `messages` with `text` in the leading system message (after its text and a blank line, or before it), or as a new
 * first system message.
 */
function withSystemText(messages: readonly ChatMessage[], text: string, placement: "before" | "after"): ChatMessage[] {
  const [first, ...rest] = messages;
  if (first && (first.role === "system" || first.role === "developer")) {
    const own = contentText(first.content);
    const joined = own === "" ? text : placement === "before" ? `${text}${own}` : `${own}\n\n${text}`;
    return [{ ...first, content: joined }, ...rest];
  }
  return [{ role: "system", content: text }, ...messages];
}

/** One piece of a read answer: text, or a complete call. */
export type ToolOutputEvent =
  { content: string } | { call: { id: string; type: "function"; function: { name: string; arguments: string } } };

/**
 * Reads one answer (whole or streamed) with a convention, applying the
 * module's rule for unusable calls.
 */
export class ToolOutputReader {
  private readonly parser: ToolStreamParser;
  private failed = false;
  /** The calls handed out so far. */
  calls = 0;

  /**
   * @param names the functions the request offered
   * @param warn told once, at the first unusable call, why it was returned as text
   */
  constructor(
    convention: ToolConvention,
    private readonly names: ReadonlySet<string>,
    private readonly warn: (problem: string, text: string) => void,
  ) {
    this.parser = convention.createStreamParser();
  }

  /** The events of the next piece of text. */
  push(text: string): ToolOutputEvent[] {
    const out = this.parser.push(text);
    // Text before the first call marker comes before the calls it completes.
    return [...(out.content ? [{ content: out.content }] : []), ...this.events(out.calls)];
  }

  /** The events left when the answer is over. */
  end(): ToolOutputEvent[] {
    const out = this.parser.end();
    // An unclosed last call, then the text after the calls.
    return [...this.events(out.calls), ...(out.content ? [{ content: out.content }] : [])];
  }

  private events(blocks: ToolCallBlock[] | undefined): ToolOutputEvent[] {
    const events: ToolOutputEvent[] = [];
    for (const block of blocks ?? []) {
      const problem = this.failed
        ? "follows an unusable call"
        : !isParsedCall(block)
          ? block.problem
          : this.names.has(block.name)
            ? null
            : `the function ${JSON.stringify(block.name)} was not offered`;
      if (problem === null && isParsedCall(block)) {
        this.calls++;
        events.push({
          call: {
            id: `call_${randomBytes(12).toString("hex")}`,
            type: "function",
            function: { name: block.name, arguments: block.arguments },
          },
        });
        continue;
      }
      if (!this.failed) this.warn(problem ?? "unusable call", block.text);
      this.failed = true;
      events.push({ content: block.text });
    }
    return events;
  }
}
