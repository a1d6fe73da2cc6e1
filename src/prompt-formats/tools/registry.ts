/**
 * The tool conventions by name (`PromptFormat.toolConvention` names one).
 */
import { hermes } from "./hermes.js";
import { llama3Json } from "./llama3-json.js";
import { memgpt } from "./memgpt.js";
import { mistral } from "./mistral.js";
import type { ToolConvention } from "./types.js";
import type { ToolConventionName } from "./names.js";

/** Every name of `names.ts` with its convention (`tsc` fails while one is missing). */
const BY_NAME: Record<ToolConventionName, ToolConvention> = { hermes, "llama3-json": llama3Json, mistral, memgpt };

const CONVENTIONS = new Map<string, ToolConvention>(Object.entries(BY_NAME));

/** The convention of that name, or undefined. */
export function getToolConvention(name: string): ToolConvention | undefined {
  return CONVENTIONS.get(name);
}

/** The convention the named formats write history tool calls and results in when they declare none. */
export const DEFAULT_HISTORY_CONVENTION: ToolConvention = hermes;

/**
 * The convention a model's own chat template taught in `prompt` (a
 * rendering with `tools`): the first whose `promptMarker` it holds, or
 * undefined.
 */
export function conventionOfPrompt(prompt: string): ToolConvention | undefined {
  return [...CONVENTIONS.values()].find(
    (convention) => convention.promptMarker && prompt.includes(convention.promptMarker),
  );
}
