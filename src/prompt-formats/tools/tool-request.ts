/**
 * Reads a chat request's `tools` and `tool_choice` (OpenAI Chat Completions,
 * https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools)
 * and decides which functions a raw-completion prompt offers.
 */
import { z } from "zod";
import { invalidRequest } from "../../protocol/errors.js";
import type { FunctionTool, ToolChoice } from "./types.js";

const functionToolSchema = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

const toolChoiceSchema = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string().min(1) }) }),
]);

/** The tool part of a request. */
export interface ToolRequest {
  /** The function tools, as sent (other tool types are left out: a raw prompt cannot offer them). */
  tools: FunctionTool[];
  toolChoice: ToolChoice | undefined;
}

/**
 * The function tools and `tool_choice` of a request body, or null when it has no function tools.
 * @throws RelayError 400 `invalid_request_error` (param `tools` / `tool_choice`) when they are not OpenAI's shape
 */
export function readToolRequest(body: Record<string, unknown>): ToolRequest | null {
  const rawTools = body.tools;
  if (rawTools == null) return null;
  if (!Array.isArray(rawTools)) throw invalidRequest("tools must be an array", "tools");
  const tools: FunctionTool[] = [];
  rawTools.forEach((tool: unknown, i) => {
    if ((tool as { type?: unknown } | null)?.type !== "function") return;
    const parsed = functionToolSchema.safeParse(tool);
    if (!parsed.success) throw invalidRequest(`tools[${i}] is not a function tool: ${parsed.error.message}`, "tools");
    tools.push(tool as FunctionTool);
  });
  if (tools.length === 0) return null;
  let toolChoice: ToolChoice | undefined;
  if (body.tool_choice != null) {
    const parsed = toolChoiceSchema.safeParse(body.tool_choice);
    if (!parsed.success)
      throw invalidRequest(
        "tool_choice must be none, auto, required or {type: function, function: {name}}",
        "tool_choice",
      );
    toolChoice = parsed.data;
  }
  return { tools, toolChoice };
}

/** The functions a prompt offers under a `tool_choice`, and whether a call is required. */
export interface ToolSelection {
  tools: FunctionTool[];
  /** null: the model may answer in text; `any`: at least one call; a name: that function must be called. */
  mustCall: null | "any" | { name: string };
}

/**
 * What `tool_choice` leaves of `tools`: nothing for `none`, every tool for
 * `auto` (the default) and `required`, only the named one for a function.
 * @returns null when no tool is offered
 * @throws RelayError 400 (param `tool_choice`) when the named function is not among `tools`
 */
export function selectTools(tools: readonly FunctionTool[], toolChoice: ToolChoice | undefined): ToolSelection | null {
  if (tools.length === 0 || toolChoice === "none") return null;
  if (toolChoice === undefined || toolChoice === "auto") return { tools: [...tools], mustCall: null };
  if (toolChoice === "required") return { tools: [...tools], mustCall: "any" };
  const name = toolChoice.function.name;
  const named = tools.filter((tool) => tool.function.name === name);
  if (named.length === 0)
    throw invalidRequest(`tool_choice names the function '${name}', which is not among tools`, "tool_choice");
  return { tools: named, mustCall: { name } };
}
