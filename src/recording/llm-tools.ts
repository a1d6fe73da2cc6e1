/**
 * The tool rows llm writes for an exchange, as pure data:
 *
 * - llm 0.31.1 (`Response.log_to_db` in llm/models.py): one `tools` row per
 *   distinct tool (`ensure_tool` in llm/utils.py), `tool_responses(tool_id,
 *   response_id)` for each tool the prompt offered, `tool_calls` for each
 *   call in the reply (`arguments` = `json.dumps(arguments)`), `tool_results`
 *   for each tool result the prompt carried (`tool_id` looked up by name
 *   among the prompt's tools, NULL when none has it);
 * - llm 0.32 (`LogStore._log_in_transaction` in llm/logs.py): the same
 *   `tools` rows and `turn_tools(turn_id, tool_id, instance_id NULL)` for the
 *   turn's tools (the calls and results are parts of the messages).
 *
 * Tools are named by their `hash` here; the stores turn hashes into
 * `tools.id`s (`INSERT … ON CONFLICT (hash) DO NOTHING`, then the id).
 * OpenAI's request shapes: https://platform.openai.com/docs/api-reference/chat/create
 * (`tools[].function` `{name, description, parameters}`, and the legacy `functions[]`).
 */
import { createHash } from "node:crypto";
import type { LlmMessage, LlmToolCallPart, LlmToolResultPart } from "./llm-message.js";
import { pythonJsonDumps } from "./message-hash.js";

/** A `tools` row (without its generated `id`): `plugin` is always NULL for a proxied request. */
export interface ToolRow {
  /** llm's `Tool.hash()`: sha256 hex of `json.dumps({"name", "description", "input_schema"})`. */
  hash: string;
  name: string;
  description: string | null;
  /** `json.dumps(input_schema)` (Python's separators, ASCII escapes, key order kept). */
  input_schema: string;
}

/** A `tool_calls` row (without `id`); `tool_hash` names the tool (`tool_id`), null when the request offered none of that name. */
export interface ToolCallRow {
  response_id: string;
  tool_hash: string | null;
  name: string;
  /** `json.dumps` of the parsed arguments. */
  arguments: string;
  tool_call_id: string | null;
}

/** A `tool_results` row (without `id`; `instance_id` and `exception` NULL). */
export interface ToolResultRow {
  response_id: string;
  tool_hash: string | null;
  name: string;
  output: string;
  tool_call_id: string | null;
}

/** Every tool row of one exchange (history rows included). */
export interface ExchangeToolRows {
  /** Distinct tools of the request, in request order. */
  tools: ToolRow[];
  /** `tool_responses`: each tool × each `responses` row written. */
  toolResponses: { tool_hash: string; response_id: string }[];
  /** `turn_tools`: each tool × each turn written (`instance_id` NULL). */
  turnTools: { turn_id: string; tool_hash: string }[];
  toolCalls: ToolCallRow[];
  toolResults: ToolResultRow[];
}

/** llm's `Tool.hash()` of a tool without plugin. */
export function toolHash(name: string, description: string | null, inputSchema: unknown): string {
  return createHash("sha256")
    .update(pythonJsonDumps({ name, description, input_schema: inputSchema }), "utf8")
    .digest("hex");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** One `{name, description, parameters}` definition as a tool row, or null when it has no name. */
function toolOf(def: unknown): ToolRow | null {
  if (!isObject(def) || typeof def.name !== "string") return null;
  const description = typeof def.description === "string" ? def.description : null;
  const inputSchema = isObject(def.parameters) ? def.parameters : {};
  return {
    hash: toolHash(def.name, description, inputSchema),
    name: def.name,
    description,
    input_schema: pythonJsonDumps(inputSchema),
  };
}

/**
 * The tools a chat-completion request offers: `tools[]` entries of type
 * `function` (their `function` object), then the legacy `functions[]`;
 * a tool without `parameters` has the input schema `{}`. Distinct by hash,
 * first occurrence first. Malformed entries are skipped.
 * @param body the request body as recorded (`prompt_json`)
 */
export function requestTools(body: Record<string, unknown>): ToolRow[] {
  const defs: unknown[] = [];
  if (Array.isArray(body.tools)) {
    for (const t of body.tools)
      if (isObject(t) && (t.type === undefined || t.type === "function")) defs.push(t.function);
  }
  if (Array.isArray(body.functions)) defs.push(...(body.functions as unknown[]));
  const seen = new Set<string>();
  const out: ToolRow[] = [];
  for (const def of defs) {
    const tool = toolOf(def);
    if (tool && !seen.has(tool.hash)) {
      seen.add(tool.hash);
      out.push(tool);
    }
  }
  return out;
}

/** One `responses` row's share of the tool rows: which messages hold its calls and results. */
export interface ToolRowSource {
  /** The `responses` row id (= its turn's id). */
  responseId: string;
  /** Whether a turn is written for it (a failed exchange with no output has none). */
  hasTurn: boolean;
  /** The assistant message whose `tool_call` parts are its calls, or null. */
  reply: LlmMessage | null;
  /** Its input messages: the `tool_result` parts of their `tool` messages are its results. */
  inputs: readonly LlmMessage[];
}

/**
 * The tool rows of an exchange's `responses` rows (history rows first, then
 * the live one), as llm 0.31.1 and 0.32 write them for the same prompt.
 * @param tools `requestTools(body)`
 * @param sources one per `responses` row written, in order
 */
export function exchangeToolRows(tools: readonly ToolRow[], sources: readonly ToolRowSource[]): ExchangeToolRows {
  // tool_ids_by_name: a later tool of the same name wins, as in llm's dict.
  const byName = new Map<string, string>();
  for (const t of tools) byName.set(t.name, t.hash);
  const rows: ExchangeToolRows = {
    tools: [...tools],
    toolResponses: [],
    turnTools: [],
    toolCalls: [],
    toolResults: [],
  };
  for (const source of sources) {
    for (const t of tools) {
      rows.toolResponses.push({ tool_hash: t.hash, response_id: source.responseId });
      if (source.hasTurn) rows.turnTools.push({ turn_id: source.responseId, tool_hash: t.hash });
    }
    for (const part of source.reply?.parts ?? []) {
      if (part.type !== "tool_call") continue;
      const call: LlmToolCallPart = part;
      rows.toolCalls.push({
        response_id: source.responseId,
        tool_hash: byName.get(call.name) ?? null,
        name: call.name,
        arguments: pythonJsonDumps(call.arguments),
        tool_call_id: call.tool_call_id ?? null,
      });
    }
    for (const message of source.inputs) {
      if (message.role !== "tool") continue;
      for (const part of message.parts) {
        if (part.type !== "tool_result") continue;
        const result: LlmToolResultPart = part;
        rows.toolResults.push({
          response_id: source.responseId,
          tool_hash: byName.get(result.name) ?? null,
          name: result.name,
          output: result.output,
          tool_call_id: result.tool_call_id ?? null,
        });
      }
    }
  }
  return rows;
}
