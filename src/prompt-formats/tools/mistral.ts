/**
 * Mistral's tool convention, as Mistral's v3 tokenizer writes it
 * (mistral-common, https://github.com/mistralai/mistral-common, and the
 * `chat_template` of mistralai/Mistral-7B-Instruct-v0.3's
 * tokenizer_config.json; Mistral 7B v0.3, Mixtral 8x22B):
 *
 * - the functions go, as one JSON array of the tools as sent, between
 *   `[AVAILABLE_TOOLS]` and `[/AVAILABLE_TOOLS]`, right before the last
 *   user message's `[INST]`. The convention places the block at the start
 *   of the system text (`placement: "before"`); the `mistral-instruct`
 *   format takes it from there and writes it before the last `[INST]`
 *   (`splitAvailableTools`).
 * - the model answers `[TOOL_CALLS] [{"name": …, "arguments": {…}}, …]`:
 *   parallel calls in one JSON array, possibly after some text; the text
 *   from the marker on is the calls.
 * - earlier calls are written back the same way (all calls of a message in
 *   one array, `renderCalls`), and each tool result as its own
 *   `[TOOL_RESULTS] {"content": …}[/TOOL_RESULTS]` turn (`resultTurns:
 *   "tool"`; the content as JSON when it is JSON, else as a string; the
 *   `call_id` is left out: the history's turns do not carry it here, and
 *   Mistral's format makes it optional).
 * - `tool_choice: "required"` / a named function add llm-relay's own line
 *   (as for the other conventions) after the block.
 */
import { selectTools } from "./tool-request.js";
import { parseWhole } from "./tagged-calls.js";
import type {
  FunctionTool,
  ToolCallBlock,
  ToolChoice,
  ToolConvention,
  ToolStreamOutput,
  ToolStreamParser,
} from "./types.js";

const TOOLS_OPEN = "[AVAILABLE_TOOLS]";
const TOOLS_CLOSE = "[/AVAILABLE_TOOLS]";
const CALLS = "[TOOL_CALLS]";

/** Mistral's v3 convention. */
export const mistral: ToolConvention = {
  name: "mistral",
  description: "Mistral v3: [AVAILABLE_TOOLS] before the last user turn, [TOOL_CALLS] [{name, arguments}, …] answers",
  reference: "mistralai/Mistral-7B-Instruct-v0.3 tokenizer_config.json; mistral-common v3 tokenizer",
  placement: "before",
  resultTurns: "tool",
  promptMarker: TOOLS_OPEN,

  renderTools(tools: readonly FunctionTool[], toolChoice: ToolChoice | undefined): string | null {
    const selection = selectTools(tools, toolChoice);
    if (!selection) return null;
    let text = `${TOOLS_OPEN} ${JSON.stringify(selection.tools)}${TOOLS_CLOSE}`;
    if (selection.mustCall === "any") text += "You must call at least one function.";
    else if (selection.mustCall) text += `You must call the function ${JSON.stringify(selection.mustCall.name)}.`;
    return text;
  },

  renderCall(call: { name: string; arguments: string | undefined }): string {
    return mistral.renderCalls!([call]);
  },

  renderCalls(calls: readonly { name: string; arguments: string | undefined }[]): string {
    return `${CALLS} ${JSON.stringify(calls.map((call) => ({ name: call.name, arguments: argumentsValue(call.arguments) })))}`;
  },

  renderResults(results: readonly string[]): string {
    return results
      .map((result) => `[TOOL_RESULTS] ${JSON.stringify({ content: contentValue(result) })}[/TOOL_RESULTS]`)
      .join("");
  },

  parse(text: string) {
    return parseWhole(mistral.createStreamParser(), text);
  },

  createStreamParser(): ToolStreamParser {
    /** `text`: before the marker; `calls`: from the marker on, buffered to the end. */
    let mode: "text" | "calls" = "text";
    let pending = "";
    return {
      push(textDelta: string): ToolStreamOutput {
        pending += textDelta;
        if (mode === "calls") return {};
        const at = pending.indexOf(CALLS);
        if (at >= 0) {
          const before = pending.slice(0, at);
          const space = before.length - before.trimEnd().length;
          const content = before.slice(0, before.length - space);
          pending = pending.slice(at - space);
          mode = "calls";
          return content ? { content } : {};
        }
        const held = partialLength(pending, CALLS);
        const safe = pending.length - held;
        const emit = pending.slice(0, safe).trimEnd().length;
        const content = pending.slice(0, emit);
        pending = pending.slice(emit);
        return content ? { content } : {};
      },
      end(): ToolStreamOutput {
        const text = pending;
        const wasCalls = mode === "calls";
        pending = "";
        mode = "text";
        if (!wasCalls) return text ? { content: text } : {};
        return { calls: readCalls(text) };
      },
    };
  },
};

/**
 * The system text's leading `[AVAILABLE_TOOLS]…[/AVAILABLE_TOOLS]` block
 * and the rest of the text (a `tool_choice` line included), for
 * the `mistral-instruct` format to write the block before the last `[INST]`.
 * @returns block null when the text does not start with one; rest null when nothing is left
 */
export function splitAvailableTools(system: string): { block: string | null; rest: string | null } {
  if (!system.startsWith(TOOLS_OPEN)) return { block: null, rest: system };
  const close = system.indexOf(TOOLS_CLOSE);
  if (close < 0) return { block: null, rest: system };
  const end = close + TOOLS_CLOSE.length;
  const rest = system.slice(end);
  return { block: system.slice(0, end), rest: rest === "" ? null : rest };
}

/** The calls of the text from the marker on: one JSON array (or object) of `{name, arguments}`. */
function readCalls(text: string): ToolCallBlock[] {
  const json = text.trim().slice(CALLS.length).trim();
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return [{ problem: `the calls are not JSON (${error instanceof Error ? error.message : String(error)})`, text }];
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return [{ problem: "the call list is empty", text }];
  // The list is one piece of text: one unusable call makes the whole list text.
  const blocks = list.map((item) => readCall(item, text));
  const bad = blocks.find((block) => !("name" in block));
  return bad ? [bad] : blocks;
}

function readCall(item: unknown, text: string): ToolCallBlock {
  if (item === null || typeof item !== "object" || Array.isArray(item))
    return { problem: "a call is not a JSON object", text };
  const { name, arguments: args } = item as { name?: unknown; arguments?: unknown };
  if (typeof name !== "string" || name === "") return { problem: "a call has no name", text };
  const value = typeof args === "string" ? parseJson(args) : (args ?? {});
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { problem: `the arguments of ${name} are not a JSON object`, text };
  return { name, arguments: JSON.stringify(value), text };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** The length of the longest end of `text` that is a proper start of `tag`. */
function partialLength(text: string, tag: string): number {
  for (let length = Math.min(tag.length - 1, text.length); length > 0; length--)
    if (tag.startsWith(text.slice(text.length - length))) return length;
  return 0;
}

/** A call's `arguments` (a JSON string on the wire) as a value, or the string itself when it is not JSON. */
function argumentsValue(raw: string | undefined): unknown {
  if (raw === undefined || raw === "") return {};
  const value = parseJson(raw);
  return value === null && raw.trim() !== "null" ? raw : value;
}

/** A tool result as Mistral's `content`: its JSON value when it is JSON, else the text. */
function contentValue(result: string): unknown {
  const value = parseJson(result);
  return value === null && result.trim() !== "null" ? result : value;
}
