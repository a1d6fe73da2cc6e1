/**
 * `prompt_format` settings: registered names, `jinja:<file>` (a .jinja
 * file or a tokenizer_config.json, relative to the config's directory),
 * `auto` (the discovered template, else ChatML), and the 400 errors for
 * unknown names, missing files and broken templates.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { RelayError } from "../../src/protocol/errors.js";
import { DEFAULT_PROMPT_FORMAT, getPromptFormat, resolvePromptFormat } from "../../src/prompt-formats/registry.js";
import { aiderRequest } from "../helpers/fixtures.js";
import { tempDir } from "../helpers/proxy.js";
import { referenceTemplateText, TEMPLATES_DIR } from "./reference-templates.js";

const messages = aiderRequest().messages;
const fixturesDir = fileURLToPath(TEMPLATES_DIR);
const dir = tempDir("llm-relay-prompt-formats-");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The RelayError `fn` throws. */
function relayError(fn: () => unknown): RelayError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RelayError) return error;
    throw error;
  }
  throw new Error("expected a RelayError");
}

describe("registered names", () => {
  it("gives the default format (chatml) when none is configured", () => {
    expect(DEFAULT_PROMPT_FORMAT).toBe("chatml");
    expect(resolvePromptFormat(undefined, { baseDir: dir }).name).toBe("chatml");
    expect(resolvePromptFormat("gemma", { baseDir: dir })).toBe(getPromptFormat("gemma"));
  });

  it("refuses an unknown name with a 400 that lists the known ones", () => {
    const error = relayError(() => resolvePromptFormat("llama-9", { baseDir: dir }));
    expect(error.status).toBe(400);
    expect(error.toBody().error).toMatchObject({ type: "invalid_request_error", param: "prompt_format" });
    expect(error.message).toContain("Unknown prompt format 'llama-9'");
    expect(error.message).toContain("chatml, llama2, llama3, mistral-instruct");
    expect(error.message).toContain("jinja:<file>, auto");
  });
});

describe("jinja:<file>", () => {
  it("renders a .jinja file relative to the base directory like the named format of the same template", () => {
    const format = resolvePromptFormat("jinja:llama3.jinja", { baseDir: fixturesDir });
    expect(format.name).toBe("jinja:llama3.jinja");
    // A bare .jinja file knows no special tokens: no BOS text, as the named format without BOS.
    expect(format.render(messages)).toBe(getPromptFormat("llama3")!.render(messages, { bos: false }));
    expect(format.stop).toContain("<|eot_id|>");
  });

  it("reads a tokenizer_config.json: its chat_template, BOS and EOS (AddedToken objects too)", () => {
    const file = path.join(dir, "tokenizer_config.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        add_bos_token: true,
        bos_token: "<bos>",
        eos_token: {
          __type: "AddedToken",
          content: "<eos>",
          lstrip: false,
          normalized: false,
          rstrip: false,
          single_word: false,
        },
        chat_template: referenceTemplateText("gemma"),
      }),
    );
    const format = resolvePromptFormat(`jinja:${file}`, { baseDir: "/nonexistent-base" });
    expect(format.bos).toBe("<bos>");
    expect(format.eos).toBe("<eos>");
    expect(format.stop).toEqual(["<eos>", "<end_of_turn>"]);
    const gemma = getPromptFormat("gemma")!;
    expect(format.render(messages)).toBe(gemma.render(messages));
    expect(format.render(messages, { bos: false })).toBe(gemma.render(messages, { bos: false }));
  });

  it("uses the `default` entry of a named chat_template list", () => {
    fs.mkdirSync(path.join(dir, "cohere"), { recursive: true });
    fs.writeFileSync(
      path.join(dir, "cohere", "tokenizer_config.json"),
      JSON.stringify({
        bos_token: "<BOS_TOKEN>",
        eos_token: "<|END_OF_TURN_TOKEN|>",
        chat_template: [
          { name: "tool_use", template: "TOOL USE {{ messages | length }}" },
          { name: "default", template: referenceTemplateText("command-r") },
        ],
      }),
    );
    const format = resolvePromptFormat("jinja:cohere/tokenizer_config.json", { baseDir: dir });
    expect(format.render(messages)).toBe(getPromptFormat("command-r")!.render(messages));
  });

  it("continues a trailing assistant message as transformers' continue_final_message does", () => {
    const format = resolvePromptFormat("jinja:chatml.jinja", { baseDir: fixturesDir });
    const chat = [...messages, { role: "assistant" as const, content: "Sure: show_greeting.py" }];
    expect(format.render(chat)).toBe(getPromptFormat("chatml")!.render(chat));
    expect(format.render(chat).endsWith("<|im_start|>assistant\nSure: show_greeting.py")).toBe(true);
  });

  it("gives the template the request's tools", () => {
    const file = path.join(dir, "tools.jinja");
    fs.writeFileSync(
      file,
      "{% for tool in tools %}[{{ tool.function.name }}]{% endfor %}{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}",
    );
    const format = resolvePromptFormat("jinja:tools.jinja", { baseDir: dir });
    const tools = [{ type: "function", function: { name: "get_weather", parameters: {} } }];
    expect(
      format.render(
        [
          { role: "developer", content: [{ type: "text", text: "Be brief." }] },
          { role: "user", content: "Hi" },
        ],
        { tools },
      ),
    ).toBe("[get_weather]system:Be brief.;user:Hi;");
  });

  it("refuses a missing file with a 400 naming the path", () => {
    const error = relayError(() => resolvePromptFormat("jinja:templates/missing.jinja", { baseDir: dir }));
    expect(error.status).toBe(400);
    expect(error.toBody().error).toMatchObject({
      type: "invalid_request_error",
      code: "chat_template_not_found",
      param: "prompt_format",
    });
    expect(error.message).toContain(path.join(dir, "templates", "missing.jinja"));
    expect(error.message).toContain("ENOENT");
  });

  it("refuses `jinja:` without a file, a JSON file without chat_template and a template that does not parse", () => {
    expect(relayError(() => resolvePromptFormat("jinja:", { baseDir: dir })).status).toBe(400);
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ model_type: "llama" }));
    expect(relayError(() => resolvePromptFormat("jinja:config.json", { baseDir: dir })).message).toContain(
      'without a usable "chat_template"',
    );
    fs.writeFileSync(path.join(dir, "broken.jinja"), "{% for message in messages %}{{ message.content }");
    const broken = relayError(() => resolvePromptFormat("jinja:broken.jinja", { baseDir: dir }));
    expect(broken.status).toBe(400);
    expect(broken.message).toContain("cannot be parsed");
  });

  it("turns an exception raised by the template into a 400 with the template's message", () => {
    // google/gemma-2-2b-it's template refuses a system message.
    const gemma2 = path.join(dir, "gemma-2.jinja");
    fs.writeFileSync(
      gemma2,
      "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{{ message['content'] }}{% endfor %}",
    );
    const format = resolvePromptFormat("jinja:gemma-2.jinja", { baseDir: dir });
    const error = relayError(() => format.render(messages));
    expect(error.status).toBe(400);
    expect(error.message).toContain("System role not supported");
  });
});

describe("auto", () => {
  it("renders the discovered template with the discovered tokens", () => {
    const format = resolvePromptFormat("auto", {
      baseDir: dir,
      discovered: {
        template: referenceTemplateText("llama3"),
        source: "llamacpp /props",
        bosToken: "<|begin_of_text|>",
        eosToken: "<|end_of_text|>",
      },
    });
    expect(format.name).toBe("auto:llamacpp /props");
    expect(format.render(messages)).toBe(getPromptFormat("llama3")!.render(messages));
    // The GGUF's EOS is <|end_of_text|>, but turns end with <|eot_id|>: both stop.
    expect(format.stop).toEqual(["<|end_of_text|>", "<|eot_id|>"]);
  });

  it("falls back to chatml when nothing was discovered", () => {
    expect(resolvePromptFormat("auto", { baseDir: dir }).name).toBe("chatml");
    expect(resolvePromptFormat("auto", { baseDir: dir, discovered: null }).render(messages)).toBe(
      getPromptFormat("chatml")!.render(messages),
    );
  });

  it("falls back to chatml, with a warning, when the discovered template does not parse", () => {
    const warnings: string[] = [];
    const format = resolvePromptFormat("auto", {
      baseDir: dir,
      discovered: { template: "{% if %}", source: "gguf" },
      onWarning: (message) => warnings.push(message),
    });
    expect(format.name).toBe("chatml");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("The chat template from gguf cannot be parsed");
  });
});
