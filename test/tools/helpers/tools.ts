/**
 * The function tools the tool-calling tests offer: two OpenAI function
 * tools, one with a non-ASCII description.
 */
import type { FunctionTool } from "../../../src/prompt-formats/tools/types.js";

/** `get_weather(city)` and `get_time(timezone)`. */
export const TWO_TOOLS: FunctionTool[] = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Current weather in a city",
      parameters: {
        type: "object",
        properties: { city: { type: "string", description: "City name, e.g. Zürich" } },
        required: ["city"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "get_time",
      description: "Local time in a timezone",
      parameters: { type: "object", properties: { timezone: { type: "string" } }, required: ["timezone"] },
    },
  },
];

/**
 * {@link TWO_TOOLS} as the Hermes / Qwen 2.5 convention puts them in the system turn, written out from Qwen's
 * documented format (one `tojson` signature per line inside `<tools>`, then the answer format).
 */
export const TWO_TOOLS_HERMES =
  "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
  "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" +
  '{"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city", ' +
  '"parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name, e.g. Zürich"}}, "required": ["city"]}}}\n' +
  '{"type": "function", "function": {"name": "get_time", "description": "Local time in a timezone", ' +
  '"parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}}}' +
  "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
  '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>';
