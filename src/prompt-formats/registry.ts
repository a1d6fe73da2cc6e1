/**
 * The registry of prompt formats, and how a deployment's `prompt_format`
 * setting becomes one: a registered name, `jinja:<file>` (a Hugging Face
 * chat template rendered with @huggingface/jinja), or `auto` (the model's
 * own template, discovered from its backend).
 */
import path from "node:path";
import { invalidRequest, RelayError } from "../protocol/errors.js";
import { airoboros } from "./airoboros.js";
import { alpaca } from "./alpaca.js";
import { chatml } from "./chatml.js";
import { commandR } from "./command-r.js";
import { deepseek } from "./deepseek.js";
import { dolphin } from "./dolphin.js";
import { gemma } from "./gemma.js";
import { jinjaPromptFormat } from "./jinja-format.js";
import { llama2 } from "./llama2.js";
import { llama3 } from "./llama3.js";
import { mistralInstruct } from "./mistral-instruct.js";
import { phi3 } from "./phi3.js";
import { readChatTemplateFile } from "./template-file.js";
import type { DiscoveredTemplate, PromptFormat, PromptFormatInfo } from "./types.js";
import { vicuna } from "./vicuna.js";
import { zephyr } from "./zephyr.js";

/** The format used when a raw backend has none configured. */
export const DEFAULT_PROMPT_FORMAT = "chatml";

/** The `prompt_format` values besides the registered names. */
export const SPECIAL_PROMPT_FORMATS = ["jinja:<file>", "auto"] as const;

const FORMATS = new Map<string, PromptFormat>(
  [
    chatml,
    llama2,
    llama3,
    mistralInstruct,
    alpaca,
    vicuna,
    zephyr,
    phi3,
    gemma,
    airoboros,
    dolphin,
    commandR,
    deepseek,
  ].map((format) => [format.name, format]),
);

/** Every named format, for `llm-relay formats` and `GET /internal/prompt-formats`. */
export function listPromptFormats(): PromptFormatInfo[] {
  return [...FORMATS.values()].map(({ name, description, stop, bos, eos, reference, toolConvention }) => ({
    name,
    description,
    stop,
    bos,
    eos,
    ...(reference ? { reference } : {}),
    ...(toolConvention ? { toolConvention } : {}),
  }));
}

/** The registered format of that name, or undefined. */
export function getPromptFormat(name: string): PromptFormat | undefined {
  return FORMATS.get(name);
}

/** What resolving `auto` or `jinja:` needs. */
export interface ResolveContext {
  /** Directory `jinja:<file>` paths resolve against. */
  baseDir: string;
  /** The model's own template, for `auto`; null or absent when the backend has none. */
  discovered?: DiscoveredTemplate | null;
  /**
   * Told why `auto` fell back to the default format although a template
   * was discovered (it does not parse). Without it the fallback is silent.
   */
  onWarning?: (message: string) => void;
}

/**
 * The format named by a deployment's `prompt_format`.
 * @param spec a registered name, `jinja:<file>` or `auto`; undefined gives the default
 * @throws RelayError 400 for an unknown name, an unreadable `jinja:` file or a template that does not parse
 */
export function resolvePromptFormat(spec: string | undefined, context: ResolveContext): PromptFormat {
  const name = spec ?? DEFAULT_PROMPT_FORMAT;
  if (name === "auto") return resolveAuto(context);
  if (name.startsWith("jinja:")) {
    const file = name.slice("jinja:".length).trim();
    if (file === "")
      throw invalidRequest(
        `prompt_format 'jinja:' needs a file: jinja:<path to a .jinja file or tokenizer_config.json>`,
        "prompt_format",
      );
    const source = readChatTemplateFile(path.resolve(context.baseDir, file), name);
    return jinjaPromptFormat(name, `Hugging Face chat template from ${source.origin}`, source);
  }
  const format = FORMATS.get(name);
  if (!format)
    throw invalidRequest(
      `Unknown prompt format '${name}'; known: ${[...FORMATS.keys()].join(", ")}, jinja:<file>, auto`,
      "prompt_format",
    );
  return format;
}

/** The discovered template, else the default format. */
function resolveAuto(context: ResolveContext): PromptFormat {
  const discovered = context.discovered;
  if (!discovered || discovered.template.trim() === "") return FORMATS.get(DEFAULT_PROMPT_FORMAT)!;
  try {
    return jinjaPromptFormat(`auto:${discovered.source}`, `the model's own chat template (${discovered.source})`, {
      template: discovered.template,
      bosToken: discovered.bosToken ?? null,
      eosToken: discovered.eosToken ?? null,
      origin: discovered.source,
    });
  } catch (error) {
    if (!(error instanceof RelayError)) throw error;
    context.onWarning?.(`${error.message}; using the '${DEFAULT_PROMPT_FORMAT}' prompt format instead`);
    return FORMATS.get(DEFAULT_PROMPT_FORMAT)!;
  }
}
