/**
 * The Hermes / Qwen 2.5 tool convention, as Qwen documents it for Qwen2.5
 * (https://qwen.readthedocs.io/en/latest/framework/function_call.html, and
 * the `chat_template` of Qwen/Qwen2.5-7B-Instruct's tokenizer_config.json)
 * and NousResearch for Hermes 2 Pro / Hermes 3
 * (https://github.com/NousResearch/Hermes-Function-Calling):
 *
 * - the functions go in the system turn, after the system message and a
 *   blank line: a `# Tools` heading, the instruction, one JSON signature
 *   per line inside `<tools></tools>` (each tool as the client sent it,
 *   written the way the template's `tojson` writes it), and the answer
 *   format `<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>`.
 *   Without a system message the block is the system turn alone (Qwen's
 *   template would insert its default "You are Qwen…" message; llm-relay
 *   inserts no text of its own there).
 * - `tool_choice: "required"` adds "You must call at least one function."
 *   and a named function (the only one rendered) adds
 *   `You must call the function "<name>".`: neither model family documents
 *   a wording, these lines are llm-relay's.
 * - the model answers with one or more `<tool_call>{…}</tool_call>` blocks
 *   (parallel calls), possibly after some text.
 * - earlier calls are written back the same way, and tool results as a user
 *   turn of `<tool_response>\n…\n</tool_response>` blocks.
 */
import { createTaggedStreamParser, parseWhole } from "./tagged-calls.js";
import { templateJson } from "./python-json.js";
import { selectTools } from "./tool-request.js";
import type { FunctionTool, ToolCallBlock, ToolChoice, ToolConvention, ToolStreamParser } from "./types.js";

const OPEN = "<tool_call>";
const CLOSE = "</tool_call>";

/** The Hermes / Qwen 2.5 convention. */
export const hermes: ToolConvention = {
  name: "hermes",
  description:
    "Hermes / Qwen 2.5: <tools> signatures in the system turn, <tool_call>{name, arguments}</tool_call> answers",
  reference: "Qwen/Qwen2.5-7B-Instruct tokenizer_config.json; NousResearch/Hermes-Function-Calling",
  promptMarker: OPEN,

  renderTools(tools: readonly FunctionTool[], toolChoice: ToolChoice | undefined): string | null {
    const selection = selectTools(tools, toolChoice);
    if (!selection) return null;
    const signatures = selection.tools.map((tool) => `\n${templateJson(tool)}`).join("");
    let text =
      "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
      `You are provided with function signatures within <tools></tools> XML tags:\n<tools>${signatures}\n</tools>\n\n` +
      "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
      '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>';
    if (selection.mustCall === "any") text += "\n\nYou must call at least one function.";
    else if (selection.mustCall) text += `\n\nYou must call the function ${JSON.stringify(selection.mustCall.name)}.`;
    return text;
  },

  renderCall(call: { name: string; arguments: string | undefined }): string {
    return `${OPEN}\n${JSON.stringify({ name: call.name, arguments: argumentsValue(call.arguments) })}\n${CLOSE}`;
  },

  renderResults(results: readonly string[]): string {
    return results.map((result) => `<tool_response>\n${result}\n</tool_response>`).join("\n");
  },

  parse(text: string) {
    return parseWhole(hermes.createStreamParser(), text);
  },

  createStreamParser(): ToolStreamParser {
    return createTaggedStreamParser({ open: OPEN, close: CLOSE, readBlock });
  },
};

/**
 * A block's inside: one JSON object with a string `name` and an object
 * `arguments` (absent: `{}`; a string holding a JSON object is accepted, as
 * some fine-tunes write it).
 */
function readBlock(inner: string, text: string): ToolCallBlock {
  let value: unknown;
  try {
    value = JSON.parse(inner.trim());
  } catch (error) {
    return { problem: `the call is not JSON (${error instanceof Error ? error.message : String(error)})`, text };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { problem: "the call is not a JSON object", text };
  const { name, arguments: args } = value as { name?: unknown; arguments?: unknown };
  if (typeof name !== "string" || name === "") return { problem: "the call has no name", text };
  const argumentsObject = typeof args === "string" ? parseObject(args) : args === undefined ? {} : args;
  if (argumentsObject === null || typeof argumentsObject !== "object" || Array.isArray(argumentsObject))
    return { problem: `the arguments of ${name} are not a JSON object`, text };
  return { name, arguments: JSON.stringify(argumentsObject), text };
}

function parseObject(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** A call's `arguments` (a JSON string on the wire) as a value, or the string itself when it is not JSON. */
function argumentsValue(raw: string | undefined): unknown {
  if (raw === undefined || raw === "") return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
