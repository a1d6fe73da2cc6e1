/**
 * Constrained decoding on raw-completion backends (issue 19, item 4): what
 * a request asks the backend to emit, as a JSON schema the backend turns
 * into a grammar, and how a constrained tool call is read back.
 *
 * Design: the constraint is always plain JSON, never a convention's
 * wrapper. For `tool_choice: "required"` or a named function the backend is
 * asked for the convention-neutral object `{"name": <function>,
 * "arguments": <its parameters>}` (Hermes' call body; `name` is a `const`,
 * one `oneOf` branch per function for `required`), without the
 * convention's markers (`<tool_call>`, `[TOOL_CALLS]`, …): the prompt still
 * teaches the convention, and the engine builds the OpenAI call from the
 * JSON itself (`callOfConstrainedText`), so every convention is served by one
 * schema and no backend needs a hand-built GBNF. For `response_format`
 * `json_schema` the backend gets its schema, for `json_object` any JSON
 * object; those answers stay `content`.
 *
 * Backends that can constrain declare `constrainsOutput` and map the
 * constraint to their own field: a JSON schema for llama-server `/completion`
 * (`json_schema`) and Ollama `/api/generate` (`format`); node-llama-cpp's
 * grammar of the schema for `local`; and for the GBNF-only servers,
 * KoboldCpp (`grammar`) and text-generation-webui (`grammar_string`), the
 * GBNF node-llama-cpp writes for the schema (`gbnf.ts`; a schema outside its
 * subset, or no node-llama-cpp, is sent without a grammar, with one
 * warning). LM Studio legacy takes neither (its structured output is on
 * `/v1/chat/completions` only) and gets the prompt alone. Whenever no
 * grammar applied, the answer is read with the convention and validated as
 * usual.
 */
import { randomBytes } from "node:crypto";
import type { ChatCompletionRequest } from "../../protocol/chat-request.js";
import { readToolRequest, selectTools } from "../../prompt-formats/tools/tool-request.js";

/** A JSON schema, as the client sent it. */
export type JsonSchema = Record<string, unknown>;

/** What the backend is asked to emit. */
export type OutputConstraint =
  /** A tool call: JSON `{"name", "arguments"}` matching `schema`; `names` are the functions it may name. */
  | { kind: "call"; schema: JsonSchema; names: ReadonlySet<string> }
  /** `response_format`: JSON matching `schema`; null schema: any JSON object (`json_object`). */
  | { kind: "json"; schema: JsonSchema | null };

/** Any JSON object: the schema of a `json_object` answer and of a function without `parameters`. */
export const ANY_OBJECT: JsonSchema = { type: "object" };

/**
 * The constraint of a request: a required or named tool call first (it
 * wins over `response_format`), else a JSON `response_format`, else none.
 * @throws RelayError 400 for malformed `tools` / `tool_choice` (as `planTools`)
 */
export function outputConstraint(body: ChatCompletionRequest): OutputConstraint | null {
  const request = readToolRequest(body);
  const selection = request ? selectTools(request.tools, request.toolChoice) : null;
  if (selection && selection.mustCall !== null) {
    const branches = selection.tools.map((tool): JsonSchema => ({
      type: "object",
      properties: {
        name: { const: tool.function.name },
        arguments: tool.function.parameters ?? ANY_OBJECT,
      },
      required: ["name", "arguments"],
    }));
    return {
      kind: "call",
      schema: branches.length === 1 ? branches[0]! : { oneOf: branches },
      names: new Set(selection.tools.map((tool) => tool.function.name)),
    };
  }
  const format = (body as Record<string, unknown>).response_format as
    { type?: unknown; json_schema?: { schema?: unknown } } | null | undefined;
  if (format?.type === "json_object") return { kind: "json", schema: null };
  if (format?.type === "json_schema") {
    const schema = format.json_schema?.schema;
    return { kind: "json", schema: isObject(schema) ? schema : null };
  }
  return null;
}

/** The schema a backend is given for `constraint` (a `json_object` answer: any JSON object). */
export function constraintSchema(constraint: OutputConstraint): JsonSchema {
  return constraint.schema ?? ANY_OBJECT;
}

/** A call read from constrained output. */
export interface ConstrainedCall {
  name: string;
  /** The arguments as a JSON string. */
  arguments: string;
}

/**
 * The call in the text a backend emitted under a `call` constraint: a JSON
 * object whose `name` is one of the offered functions and whose
 * `arguments` is an object.
 * @returns the call, or null when the text is not such an object (the grammar was not applied, or generation stopped
 *   early at `max_tokens`); the caller then reads the text with the convention as for an unconstrained answer
 */
export function callOfConstrainedText(
  constraint: Extract<OutputConstraint, { kind: "call" }>,
  text: string,
): ConstrainedCall | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value) || typeof value.name !== "string" || !constraint.names.has(value.name)) return null;
  if (!isObject(value.arguments)) return null;
  return { name: value.name, arguments: JSON.stringify(value.arguments) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The OpenAI tool call of a constrained call, with a generated id. */
export function toolCallOf(call: ConstrainedCall): {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
} {
  return { id: `call_${randomBytes(12).toString("hex")}`, type: "function", function: call };
}
