/**
 * A Gemini `GenerateContentRequest` (https://ai.google.dev/api/generate-content)
 * → the Chat Completions request (https://platform.openai.com/docs/api-reference/chat/create)
 * a deployment gets, and the record's llm rows are built from:
 *
 * - `systemInstruction`, `contents` → `messages` (`contents-to-messages.ts`);
 * - `tools[].functionDeclarations` → function `tools` (`parametersJsonSchema`, else
 *   `parameters` as JSON Schema, `json-schema.ts`); Google's own tools (`googleSearch`,
 *   `codeExecution`, …) are left out;
 * - `toolConfig.functionCallingConfig`: `AUTO`/`VALIDATED` → `auto`, `ANY` → `required`
 *   (the named function when `allowedFunctionNames` names one), `NONE` → `none`;
 *   `allowedFunctionNames` keeps only those functions in `tools`;
 * - `generationConfig`: `temperature`, `topP` → `top_p`, `topK` → `top_k`,
 *   `maxOutputTokens` → `max_tokens`, `stopSequences` → `stop`, `seed`,
 *   `presencePenalty`/`frequencyPenalty` → `presence_penalty`/`frequency_penalty`,
 *   `responseMimeType: application/json` → `response_format` (`json_schema` with
 *   `responseJsonSchema` or `responseSchema`, else `json_object`), `thinkingConfig` →
 *   `reasoning_effort` (`thinkingLevel` as it is in lower case; a positive
 *   `thinkingBudget`: up to 1 024 tokens `low`, up to 8 192 `medium`, more `high`;
 *   0 and -1 set none), `candidateCount` above 1 → 400 (one candidate only).
 *
 * The translation is deterministic, so the turns of one conversation thread in the record.
 */
import type { ChatCompletionRequest } from "../chat-request.js";
import { invalidRequest } from "../errors.js";
import { contentsToMessages } from "./contents-to-messages.js";
import type { GeminiTool, GeminiToolConfig, GenerateContentRequest, GenerationConfig } from "./gemini-request.js";
import { toJsonSchema } from "./json-schema.js";

/** A chat function tool. */
interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters?: unknown };
}

/**
 * The chat request of a Gemini request.
 * @param model the model named in the URL
 * @param stream whether the client called `streamGenerateContent`
 * @throws RelayError 400 for what chat cannot carry (`candidateCount` > 1, `cachedContent`, media chat has no part for)
 */
export function generateContentToChat(
  request: GenerateContentRequest,
  model: string,
  stream: boolean,
): ChatCompletionRequest {
  if (typeof request.cachedContent === "string" && request.cachedContent !== "")
    throw invalidRequest(
      `Invalid value at 'cachedContent': llm-relay keeps no cached contents ('${request.cachedContent}'); send the contents themselves.`,
      "cachedContent",
    );
  const chat: ChatCompletionRequest = {
    model,
    messages: contentsToMessages(request.systemInstruction, request.contents),
  };
  if (stream) chat.stream = true;
  Object.assign(chat, generationFields(request.generationConfig), toolFields(request.tools, request.toolConfig));
  return chat;
}

/**
 * The chat function tools of `tools` (Google's own tools left out).
 * Also what `countTokens` counts with the messages.
 */
export function functionTools(tools: readonly GeminiTool[] | undefined): FunctionTool[] {
  return (tools ?? []).flatMap((tool) =>
    (tool.functionDeclarations ?? []).map((declaration): FunctionTool => {
      const schema = declaration.parametersJsonSchema ?? declaration.parameters;
      return {
        type: "function",
        function: {
          name: declaration.name,
          ...(typeof declaration.description === "string" ? { description: declaration.description } : {}),
          ...(schema ? { parameters: toJsonSchema(schema) } : {}),
        },
      };
    }),
  );
}

/** `tools` and `tool_choice` of the chat request (none when no function is declared). */
function toolFields(
  tools: readonly GeminiTool[] | undefined,
  toolConfig: GeminiToolConfig | undefined,
): Record<string, unknown> {
  const config = toolConfig?.functionCallingConfig;
  const allowed = config?.allowedFunctionNames ?? [];
  let functions = functionTools(tools);
  if (allowed.length > 0) {
    const unknown = allowed.find((name) => !functions.some((tool) => tool.function.name === name));
    if (unknown !== undefined)
      throw invalidRequest(
        `Invalid value at 'toolConfig.functionCallingConfig.allowedFunctionNames': no function is declared with the name '${unknown}'.`,
        "toolConfig.functionCallingConfig.allowedFunctionNames",
      );
    functions = functions.filter((tool) => allowed.includes(tool.function.name));
  }
  if (functions.length === 0) return {};
  const out: Record<string, unknown> = { tools: functions };
  switch (config?.mode) {
    case "AUTO":
    case "VALIDATED":
      out.tool_choice = "auto";
      break;
    case "ANY":
      out.tool_choice = allowed.length === 1 ? { type: "function", function: { name: allowed[0] } } : "required";
      break;
    case "NONE":
      out.tool_choice = "none";
      break;
    default:
      break;
  }
  return out;
}

/** The chat fields of `generationConfig`. */
function generationFields(config: GenerationConfig | undefined): Record<string, unknown> {
  if (!config) return {};
  if (config.candidateCount !== undefined && config.candidateCount > 1)
    throw invalidRequest(
      `Invalid value at 'generationConfig.candidateCount': llm-relay answers one candidate; got ${config.candidateCount}.`,
      "generationConfig.candidateCount",
    );
  const out: Record<string, unknown> = {};
  if (config.temperature !== undefined) out.temperature = config.temperature;
  if (config.topP !== undefined) out.top_p = config.topP;
  if (config.topK !== undefined) out.top_k = config.topK;
  if (config.maxOutputTokens !== undefined) out.max_tokens = config.maxOutputTokens;
  if (config.stopSequences && config.stopSequences.length > 0) out.stop = config.stopSequences;
  if (config.seed !== undefined) out.seed = config.seed;
  if (config.presencePenalty !== undefined) out.presence_penalty = config.presencePenalty;
  if (config.frequencyPenalty !== undefined) out.frequency_penalty = config.frequencyPenalty;
  const format = responseFormat(config);
  if (format) out.response_format = format;
  const effort = reasoningEffort(config.thinkingConfig);
  if (effort) out.reasoning_effort = effort;
  return out;
}

/** The chat `response_format` of a JSON `responseMimeType`, or null for text. */
function responseFormat(config: GenerationConfig): Record<string, unknown> | null {
  if (config.responseMimeType?.toLowerCase() !== "application/json") return null;
  const schema = config.responseJsonSchema ?? config.responseSchema;
  if (schema === undefined || schema === null) return { type: "json_object" };
  return { type: "json_schema", json_schema: { name: "response", schema: toJsonSchema(schema) } };
}

/** The chat `reasoning_effort` of a `thinkingConfig`, or null when it sets none (see the module comment). */
function reasoningEffort(thinking: GenerationConfig["thinkingConfig"]): string | null {
  if (!thinking) return null;
  const level = thinking.thinkingLevel?.toLowerCase();
  if (level && level !== "thinking_level_unspecified") return level;
  const budget = thinking.thinkingBudget;
  if (budget === undefined || budget <= 0) return null;
  if (budget <= 1024) return "low";
  return budget <= 8192 ? "medium" : "high";
}
