/**
 * The names of the tool conventions (`registry.ts`), as plain strings, so
 * the config schema can check a deployment's `tool_convention` without
 * loading the conventions' code. `registry.ts` maps each name to its
 * convention (`tsc` fails while one is missing).
 */

/** The conventions' names, in the registry's order. */
export const TOOL_CONVENTION_NAMES = ["hermes", "llama3-json", "mistral", "memgpt"] as const;

/** A convention's name. */
export type ToolConventionName = (typeof TOOL_CONVENTION_NAMES)[number];

/** The `tool_convention` value that turns tool rendering off for a deployment. */
export const NO_TOOL_CONVENTION = "none";
