/**
 * Reads the chat template of a `jinja:<file>` prompt format: either a
 * Jinja text file (`.jinja`, as llama.cpp's `--chat-template-file` takes),
 * or a Hugging Face `tokenizer_config.json` whose `chat_template` is a
 * string or a list of `{name, template}` (the `default` one is used), with
 * its `bos_token` / `eos_token` (strings or `{content}` AddedToken objects).
 * A bare .jinja file knows no special tokens: the template gets empty
 * `bos_token` / `eos_token`, and the format's stop sequences are the
 * end-of-turn markers the template writes (see `jinja-format.ts`).
 * Hugging Face documents both in "Chat templates"
 * (https://huggingface.co/docs/transformers/main/en/chat_templating).
 */
import fs from "node:fs";
import { invalidRequest } from "../protocol/errors.js";
import type { ChatTemplateSource } from "./jinja-format.js";

/**
 * The template (and special tokens, for a tokenizer_config.json) in `file`.
 * @param file an absolute path
 * @param spec the `prompt_format` setting, for error messages
 * @throws RelayError 400 `invalid_request_error` when the file cannot be read or holds no template
 */
export function readChatTemplateFile(file: string, spec: string): ChatTemplateSource {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw invalidRequest(
      `Cannot read the chat template file ${file} (prompt_format '${spec}'): ${code}`,
      "prompt_format",
      "chat_template_not_found",
    );
  }
  const config = parseJsonObject(text);
  if (!config) {
    if (text.trim() === "")
      throw invalidRequest(
        `The chat template file ${file} (prompt_format '${spec}') is empty`,
        "prompt_format",
        "invalid_chat_template",
      );
    return { template: text, origin: file };
  }
  const template = pickTemplate(config.chat_template);
  if (template === null) {
    throw invalidRequest(
      `${file} (prompt_format '${spec}') is JSON without a usable "chat_template" (expected a tokenizer_config.json)`,
      "prompt_format",
      "invalid_chat_template",
    );
  }
  return { template, bosToken: tokenText(config.bos_token), eosToken: tokenText(config.eos_token), origin: file };
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  if (!text.trimStart().startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null; // a Jinja template starting with `{%` or `{{`
  }
}

/** `chat_template` as a string, or the `default` (else the first) of a named list. */
function pickTemplate(value: unknown): string | null {
  if (typeof value === "string" && value.trim() !== "") return value;
  if (!Array.isArray(value)) return null;
  const named = value.filter(
    (entry): entry is { name?: unknown; template: string } =>
      typeof entry === "object" && entry !== null && typeof (entry as { template?: unknown }).template === "string",
  );
  return (named.find((entry) => entry.name === "default") ?? named[0])?.template ?? null;
}

/** A special token: a string, or an AddedToken object `{content}`. */
function tokenText(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && typeof (value as { content?: unknown }).content === "string")
    return (value as { content: string }).content;
  return null;
}
