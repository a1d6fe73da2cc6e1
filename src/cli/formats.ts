/**
 * `llm-relay formats`: the named prompt formats a raw-completion
 * deployment can use (`prompt_format:`), as a table (name, stop sequences,
 * description) or, with `--json`, the full rows (with BOS/EOS texts, the
 * reference template and the tool convention).
 */
import { renderTable } from "./text-table.js";
import { DEFAULT_PROMPT_FORMAT, listPromptFormats, SPECIAL_PROMPT_FORMATS } from "../prompt-formats/registry.js";
import type { PromptFormatInfo } from "../prompt-formats/types.js";

/** Flags of `formats`. */
export interface FormatsFlags {
  json?: boolean;
}

/** Prints the prompt formats. */
export function runFormats(flags: FormatsFlags): void {
  const formats = listPromptFormats();
  process.stdout.write(flags.json ? `${JSON.stringify(formats, null, 2)}\n` : formatFormatsTable(formats));
}

/**
 * One line per format; stop sequences JSON-quoted (they hold `|`, `<` and
 * spaces), then a line per tool convention naming its formats, and a note
 * on the default and the special values.
 */
export function formatFormatsTable(formats: readonly PromptFormatInfo[]): string {
  const header = ["name", "stop sequences", "description"];
  const lines = formats.map((format) => [
    format.name,
    format.stop.map((stop) => JSON.stringify(stop)).join(" "),
    format.description,
  ]);
  const withTools = formats.filter((format) => format.toolConvention);
  const conventions = [...new Set(withTools.map((format) => format.toolConvention!))];
  const notes = [
    "",
    ...conventions.map(
      (convention) =>
        `tool convention ${convention}: ${withTools
          .filter((format) => format.toolConvention === convention)
          .map((format) => format.name)
          .join(", ")} (a request's tools go into the prompt, calls are read from the answer)`,
    ),
    `default: ${DEFAULT_PROMPT_FORMAT}; also ${SPECIAL_PROMPT_FORMATS[0]} (a Hugging Face chat template: a .jinja file or a tokenizer_config.json)`,
    `and ${SPECIAL_PROMPT_FORMATS[1]} (the model's own template from the backend or the GGUF, else ${DEFAULT_PROMPT_FORMAT})`,
  ];
  return `${renderTable(header, lines)}${notes.join("\n")}\n`;
}
