/**
 * The registry of prompt formats, and how a deployment's `prompt_format`
 * setting becomes one: a registered name, `jinja:<file>` (a Hugging Face
 * chat template rendered with @huggingface/jinja), or `auto` (the model's
 * own template, discovered from its backend).
 */
import { invalidRequest } from "../protocol/errors.js";
import { chatml } from "./chatml.js";
import type { DiscoveredTemplate, PromptFormat, PromptFormatInfo } from "./types.js";

/** The format used when a raw backend has none configured. */
export const DEFAULT_PROMPT_FORMAT = "chatml";

const FORMATS = new Map<string, PromptFormat>([[chatml.name, chatml]]);

/** Every named format, for `llm-relay formats` and `GET /internal/prompt-formats`. */
export function listPromptFormats(): PromptFormatInfo[] {
  return [...FORMATS.values()].map(({ name, description, stop, bos, eos }) => ({ name, description, stop, bos, eos }));
}

/** What resolving `auto` or `jinja:` needs. */
export interface ResolveContext {
  /** Directory `jinja:<file>` paths resolve against. */
  baseDir: string;
  /** The model's own template, for `auto`; null or absent when the backend has none. */
  discovered?: DiscoveredTemplate | null;
}

/**
 * The format named by a deployment's `prompt_format`.
 * @param spec a registered name, `jinja:<file>` or `auto`; undefined gives the default
 * @throws RelayError 400 for an unknown name or an unreadable template file
 */
export function resolvePromptFormat(spec: string | undefined, _context: ResolveContext): PromptFormat {
  const name = spec ?? DEFAULT_PROMPT_FORMAT;
  const format = FORMATS.get(name);
  if (!format) throw invalidRequest(`Unknown prompt format '${name}'; known: ${[...FORMATS.keys()].join(", ")}, jinja:<file>, auto`);
  return format;
}
