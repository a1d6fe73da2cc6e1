/**
 * MemGPT's JSON function-call convention, as MemGPT's local-LLM prompt
 * wrappers write it (`memgpt/local_llm/llm_chat_completion_wrappers/airoboros.py`
 * and `dolphin.py`, kept in Letta as `letta/local_llm/llm_chat_completion_wrappers/`;
 * https://github.com/cpacker/MemGPT/tree/main/memgpt/local_llm), in their
 * inner-monologue variant:
 *
 * - the functions go in the system turn, after the system message: the
 *   instruction "Please select the most suitable function and parameters
 *   from the list of available functions below, based on the ongoing
 *   conversation. Provide your response in JSON format.", "Available
 *   functions:", then per function `name:`, `  description: …`, `  params:`
 *   and one `    <param>: <its description>` line per parameter, led by
 *   `    inner_thoughts: Deep inner monologue private to you only.`
 *   (MemGPT joins it to the system text with one newline; here it follows
 *   after a blank line, as every convention's block does. A parameter
 *   without a description is written with its JSON type.)
 * - `tool_choice: "required"` / a named function add llm-relay's own line,
 *   as for the other conventions.
 * - the model answers with one JSON object `{"function": "<name>",
 *   "params": {"inner_thoughts": "…", …}}`: one call per answer. The
 *   `inner_thoughts` parameter is not an argument: it becomes the message's
 *   `content` (as MemGPT's `output_to_chat_completion_response` does), the
 *   other params are the call's `arguments`. An answer that does not start
 *   with `{` is text.
 * - an earlier call is written back the same way (`{"function", "params"}`,
 *   the assistant's text before it on its own line), and a tool result as
 *   `FUNCTION RETURN: …` in a user turn.
 */
import { selectTools } from "./tool-request.js";
import { parseWhole } from "./tagged-calls.js";
import { wholeJsonStreamParser } from "./whole-json-calls.js";
import type { FunctionTool, ToolCallBlock, ToolChoice, ToolConvention, ToolStreamParser } from "./types.js";

/** The parameter that carries the model's inner monologue. */
export const INNER_THOUGHTS = "inner_thoughts";

/** MemGPT's JSON convention. */
export const memgpt: ToolConvention = {
  name: "memgpt",
  description:
    'MemGPT JSON: functions listed in the system turn, {"function", "params"} answers with inner_thoughts as content',
  reference: "MemGPT local_llm chat_completion_proxy wrappers (airoboros.py, dolphin.py)",
  promptMarker: "Please select the most suitable function and parameters from the list of available functions below",

  renderTools(tools: readonly FunctionTool[], toolChoice: ToolChoice | undefined): string | null {
    const selection = selectTools(tools, toolChoice);
    if (!selection) return null;
    let text =
      "Please select the most suitable function and parameters from the list of available functions below, " +
      "based on the ongoing conversation. Provide your response in JSON format.\nAvailable functions:" +
      selection.tools.map((tool) => `\n${describe(tool)}`).join("");
    if (selection.mustCall === "any") text += "\nYou must call at least one function.";
    else if (selection.mustCall) text += `\nYou must call the function ${JSON.stringify(selection.mustCall.name)}.`;
    return text;
  },

  renderCall(call: { name: string; arguments: string | undefined }): string {
    return JSON.stringify({ function: call.name, params: paramsValue(call.arguments) });
  },

  renderResults(results: readonly string[]): string {
    return results.map((result) => `FUNCTION RETURN: ${result}`).join("\n");
  },

  parse(text: string) {
    return parseWhole(memgpt.createStreamParser(), text);
  },

  createStreamParser(): ToolStreamParser {
    return wholeJsonStreamParser({
      isCall: (start) => start.startsWith("{"),
      read: (text) => {
        const read = readCall(text);
        return { calls: [read.block], ...(read.thoughts ? { content: read.thoughts } : {}) };
      },
    });
  },
};

/** One function in MemGPT's list form. */
function describe(tool: FunctionTool): string {
  const { name, description, parameters } = tool.function;
  const properties = (parameters?.properties ?? {}) as Record<string, { description?: unknown; type?: unknown }>;
  let text = `${name}:\n  description: ${description ?? ""}\n  params:\n    ${INNER_THOUGHTS}: Deep inner monologue private to you only.`;
  for (const [param, schema] of Object.entries(properties)) {
    const about = typeof schema?.description === "string" ? schema.description : JSON.stringify(schema?.type ?? "any");
    text += `\n    ${param}: ${about}`;
  }
  return text;
}

/**
 * The whole answer as one call: `{"function": string, "params": object}`; `params.inner_thoughts` (a string) is
 * taken out as the thoughts.
 */
function readCall(text: string): { block: ToolCallBlock; thoughts?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch (error) {
    return {
      block: { problem: `the call is not JSON (${error instanceof Error ? error.message : String(error)})`, text },
    };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { block: { problem: "the call is not a JSON object", text } };
  const record = value as { function?: unknown; params?: unknown };
  if (typeof record.function !== "string" || record.function === "")
    return { block: { problem: "the call has no function name", text } };
  const params = record.params ?? {};
  if (params === null || typeof params !== "object" || Array.isArray(params))
    return { block: { problem: `the params of ${record.function} are not a JSON object`, text } };
  const { [INNER_THOUGHTS]: thoughts, ...args } = params as Record<string, unknown>;
  return {
    block: { name: record.function, arguments: JSON.stringify(args), text },
    ...(typeof thoughts === "string" && thoughts !== "" ? { thoughts } : {}),
  };
}

/** A call's `arguments` (a JSON string on the wire) as a value, or the string itself when it is not JSON. */
function paramsValue(raw: string | undefined): unknown {
  if (raw === undefined || raw === "") return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
