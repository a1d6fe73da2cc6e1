/**
 * An OpenAI Chat Completions request → the body of Anthropic's
 * `POST /v1/messages` (https://docs.anthropic.com/en/api/messages,
 * tools: https://docs.anthropic.com/en/docs/build-with-claude/tool-use).
 *
 * Mapped: `messages` (see message-mapping.ts), `max_completion_tokens` /
 * `max_tokens` (required upstream, see max-tokens.ts), `temperature`,
 * `top_p`, `stop` → `stop_sequences`, `stream`, `tools`, `tool_choice`,
 * `parallel_tool_calls: false` → `tool_choice.disable_parallel_tool_use`,
 * `user` → `metadata.user_id`, and a `thinking` object the client sent in
 * Anthropic's own shape (`{"type": "enabled", "budget_tokens": 2048}`,
 * https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking)
 * as is. Every other OpenAI field is dropped (the API rejects unknown
 * fields); the deployment's `extra_body` is merged last, for
 * Anthropic-only fields (`top_k`, `thinking`, …).
 */
import type { Deployment } from "../../config/schema.js";
import { invalidRequest } from "../../protocol/errors.js";
import type { ChatCompletionRequest } from "../../protocol/chat-request.js";
import type { AnthropicRequest, AnthropicTool, AnthropicToolChoice } from "../../protocol/anthropic/anthropic-types.js";
import { maxTokensFor } from "./max-tokens.js";
import { toAnthropicConversation } from "./message-mapping.js";

/**
 * Builds the Anthropic request body.
 * @param body the client's body, `model` already set to the upstream model
 * @throws RelayError 400 for what Anthropic cannot express (`n` > 1, a malformed tool or tool choice, see also {@link toAnthropicConversation})
 * @throws CatalogError when the catalog's data files are invalid
 */
export function toAnthropicRequest(body: ChatCompletionRequest, deployment: Deployment): AnthropicRequest {
  const n = body.n;
  if (typeof n === "number" && n > 1)
    throw invalidRequest("Anthropic models return one choice per request; n must be 1", "n");
  const { system, messages } = toAnthropicConversation(body.messages);
  const request: AnthropicRequest = {
    model: body.model,
    max_tokens: maxTokensFor(body, deployment, body.model),
    messages,
  };
  if (system.length > 0) request.system = system;
  if (body.temperature != null) request.temperature = body.temperature;
  if (body.top_p != null) request.top_p = body.top_p;
  const stop = stopSequences(body.stop);
  if (stop.length > 0) request.stop_sequences = stop;
  if (body.stream === true) request.stream = true;
  const tools = toolsOf(body.tools);
  if (tools.length > 0) {
    request.tools = tools;
    const choice = toolChoice(body.tool_choice, body.parallel_tool_calls === false);
    if (choice) request.tool_choice = choice;
  }
  if (typeof body.user === "string" && body.user) request.metadata = { user_id: body.user };
  if (isObject(body.thinking)) request.thinking = body.thinking;
  return { ...request, ...deployment.extra_body };
}

function stopSequences(stop: unknown): string[] {
  if (typeof stop === "string") return stop ? [stop] : [];
  if (Array.isArray(stop)) return stop.filter((s): s is string => typeof s === "string" && s !== "");
  return [];
}

/** OpenAI function tools → Anthropic tools; other tool types (OpenAI's built-in ones) have no counterpart and are left out. */
function toolsOf(tools: unknown): AnthropicTool[] {
  if (tools == null) return [];
  if (!Array.isArray(tools)) throw invalidRequest("tools must be an array", "tools");
  return tools.flatMap((tool: unknown, i): AnthropicTool[] => {
    const { type, function: fn } = (tool ?? {}) as {
      type?: unknown;
      function?: { name?: unknown; description?: unknown; parameters?: unknown };
    };
    if (type !== "function") return [];
    if (!fn || typeof fn.name !== "string")
      throw invalidRequest("A function tool needs function.name", `tools.${i}.function.name`);
    const out: AnthropicTool = {
      name: fn.name,
      input_schema: isObject(fn.parameters) ? fn.parameters : { type: "object", properties: {} },
    };
    if (typeof fn.description === "string") out.description = fn.description;
    return [out];
  });
}

/**
 * OpenAI `tool_choice` → Anthropic's: `auto` → `auto`, `none` → `none`,
 * `required` → `any`, `{type:"function",function:{name}}` → `{type:"tool",name}`.
 * `parallel_tool_calls: false` sets `disable_parallel_tool_use` (on `auto` when no choice was given).
 * No choice and no `parallel_tool_calls: false` sends none (Anthropic's default is `auto`).
 */
function toolChoice(choice: unknown, noParallel: boolean): AnthropicToolChoice | null {
  const parallel = noParallel ? { disable_parallel_tool_use: true } : {};
  if (choice == null) return noParallel ? { type: "auto", ...parallel } : null;
  if (choice === "auto") return { type: "auto", ...parallel };
  if (choice === "none") return { type: "none" };
  if (choice === "required") return { type: "any", ...parallel };
  const name = (choice as { function?: { name?: unknown } }).function?.name;
  if (isObject(choice) && choice.type === "function" && typeof name === "string")
    return { type: "tool", name, ...parallel };
  throw invalidRequest("tool_choice must be auto, none, required or {type: function, function: {name}}", "tool_choice");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
