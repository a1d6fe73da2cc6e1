/**
 * Llama 3.1's JSON tool convention ("JSON based tool calling"), as Meta's
 * Llama 3.1 prompt-format documentation
 * (https://www.llama.com/docs/model-cards-and-prompt-formats/llama3_1/) and
 * the `chat_template` of meta-llama/Llama-3.1-8B-Instruct's
 * tokenizer_config.json describe it, in its system-message variant
 * (`tools_in_user_message=false`):
 *
 * - the instruction "You have access to the following functions. To call a
 *   function, please respond with JSON for a function call." followed by
 *   the answer format `{"name": function name, "parameters": dictionary of
 *   argument name and its value}`, "Do not use variables.", then each tool
 *   as JSON indented by 4 spaces followed by a blank line; it goes before the
 *   system message's text (`placement: "before"`).
 * - the model answers with the JSON object alone (optionally after
 *   `<|python_tag|>`): one call per answer, no parallel calls.
 * - an earlier call is written as `{"name": "…", "parameters": {…}}`.
 *
 * - each tool result is a turn of its own in the `ipython` role
 *   (`resultTurns: "tool"`; the `llama3` format writes the role), its text
 *   as the tool gave it.
 *
 * Attached to the `llama3` format.
 */
import { selectTools } from "./tool-request.js";
import { parseWhole } from "./tagged-calls.js";
import { wholeJsonStreamParser } from "./whole-json-calls.js";
import type { FunctionTool, ToolCallBlock, ToolChoice, ToolConvention, ToolStreamParser } from "./types.js";

const PYTHON_TAG = "<|python_tag|>";

/** The Llama 3.1 JSON convention. */
export const llama3Json: ToolConvention = {
  name: "llama3-json",
  description: 'Llama 3.1 JSON: functions in the system message, {"name", "parameters"} answers, one call per answer',
  reference: "meta-llama/Llama-3.1-8B-Instruct tokenizer_config.json; llama.com Llama 3.1 prompt format",
  placement: "before",
  resultTurns: "tool",
  promptMarker: '"parameters": dictionary of argument name and its value',

  renderTools(tools: readonly FunctionTool[], toolChoice: ToolChoice | undefined): string | null {
    const selection = selectTools(tools, toolChoice);
    if (!selection) return null;
    let text =
      "You have access to the following functions. To call a function, please respond with JSON for a function call." +
      'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' +
      "Do not use variables.\n\n" +
      selection.tools.map((tool) => `${JSON.stringify(tool, null, 4)}\n\n`).join("");
    if (selection.mustCall === "any") text += "You must call at least one function.\n\n";
    else if (selection.mustCall) text += `You must call the function ${JSON.stringify(selection.mustCall.name)}.\n\n`;
    return text;
  },

  renderCall(call: { name: string; arguments: string | undefined }): string {
    return `{"name": ${JSON.stringify(call.name)}, "parameters": ${parametersJson(call.arguments)}}`;
  },

  renderResults(results: readonly string[]): string {
    return results.join("\n");
  },

  parse(text: string) {
    return parseWhole(llama3Json.createStreamParser(), text);
  },

  createStreamParser(): ToolStreamParser {
    return wholeJsonStreamParser({
      undecided: (start) => PYTHON_TAG.startsWith(start) && start.length < PYTHON_TAG.length,
      isCall: (start) => start.startsWith("{") || start.startsWith(PYTHON_TAG),
      read: (text) => ({ calls: [readCall(text)] }),
    });
  },
};

/** The whole answer as one call: `{"name": string, "parameters": object}` (`arguments` is accepted too). */
function readCall(text: string): ToolCallBlock {
  const json = text.trim().replace(PYTHON_TAG, "").trim();
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { problem: `the call is not JSON (${error instanceof Error ? error.message : String(error)})`, text };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { problem: "the call is not a JSON object", text };
  const record = value as { name?: unknown; parameters?: unknown; arguments?: unknown };
  if (typeof record.name !== "string" || record.name === "") return { problem: "the call has no name", text };
  const parameters = record.parameters ?? record.arguments ?? {};
  if (parameters === null || typeof parameters !== "object" || Array.isArray(parameters))
    return { problem: `the parameters of ${record.name} are not a JSON object`, text };
  return { name: record.name, arguments: JSON.stringify(parameters), text };
}

/** A call's `arguments` (a JSON string on the wire) as JSON text: as sent when it is JSON, else the string quoted. */
function parametersJson(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === "") return "{}";
  try {
    JSON.parse(raw);
    return raw;
  } catch {
    return JSON.stringify(raw);
  }
}
