/**
 * `GET /internal/prompt-formats`: the named prompt formats (name,
 * description, stop sequences, BOS/EOS texts, reference template, tool
 * convention when one is attached) in the
 * internal envelope (`server/envelope.ts`); `metadata` gives the count,
 * the default format and the special `prompt_format` values.
 */
import type { FastifyInstance } from "fastify";
import { DEFAULT_PROMPT_FORMAT, listPromptFormats, SPECIAL_PROMPT_FORMATS } from "../../prompt-formats/registry.js";
import type { PromptFormatInfo } from "../../prompt-formats/types.js";
import { envelope, type Envelope } from "../envelope.js";

/** The metadata of the answer. */
export interface PromptFormatsMetadata extends Record<string, unknown> {
  count: number;
  default_format: string;
  /** `prompt_format` values that are not registered names: `jinja:<file>`, `auto`. */
  special: readonly string[];
}

/** Registers the route. */
export function registerPromptFormats(app: FastifyInstance): void {
  app.get("/internal/prompt-formats", (): Envelope<PromptFormatInfo[], PromptFormatsMetadata> => {
    const formats = listPromptFormats();
    return envelope({
      data: formats,
      message: `${formats.length} prompt formats`,
      metadata: { count: formats.length, default_format: DEFAULT_PROMPT_FORMAT, special: SPECIAL_PROMPT_FORMATS },
    });
  });
}
