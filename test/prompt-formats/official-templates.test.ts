/**
 * Every named format renders the real 12-message aider request (system
 * prompt, six user turns, five assistant turns) exactly as the reference
 * chat template of its model family does with @huggingface/jinja: with
 * and without the BOS text, without the system message, and with a
 * trailing assistant prefix (against transformers' continue_final_message).
 */
import { describe, expect, it } from "vitest";
import { getPromptFormat, listPromptFormats } from "../../src/prompt-formats/registry.js";
import type { PromptFormat } from "../../src/prompt-formats/types.js";
import { aiderRequest } from "../helpers/fixtures.js";
import { continueReference, referenceTemplateText, REFERENCE_TOKENS, renderReference } from "./reference-templates.js";

const REQUIRED = [
  "chatml",
  "llama2",
  "llama3",
  "mistral-instruct",
  "alpaca",
  "vicuna",
  "zephyr",
  "phi3",
  "gemma",
  "airoboros",
  "dolphin",
  "command-r",
  "deepseek",
];
const messages = aiderRequest().messages;

function format(name: string): PromptFormat {
  const found = getPromptFormat(name);
  if (!found) throw new Error(`no format ${name}`);
  return found;
}

describe("the registry", () => {
  it("has every format the issue names, each with a reference template fixture and tokens", () => {
    expect(
      listPromptFormats()
        .map((info) => info.name)
        .sort(),
    ).toEqual([...REQUIRED].sort());
    for (const name of REQUIRED) {
      expect(referenceTemplateText(name).length, name).toBeGreaterThan(50);
      expect(REFERENCE_TOKENS[name], name).toBeDefined();
    }
  });
});

describe.each(REQUIRED)("%s", (name) => {
  const fmt = format(name);
  const tokens = REFERENCE_TOKENS[name]!;

  it("renders the aider request exactly as its reference template", () => {
    const expected = renderReference(name, messages);
    expect(fmt.render(messages)).toBe(expected);
    // The rendering holds every message's text (trimmed formats trim it).
    for (const message of messages.slice(1)) expect(expected).toContain(message.content.trim());
  });

  it("leaves out only the leading BOS text when the backend adds BOS itself", () => {
    const withoutBos = fmt.render(messages, { bos: false });
    const reference = renderReference(name, messages);
    expect(withoutBos).toBe(fmt.bos && reference.startsWith(fmt.bos) ? reference.slice(fmt.bos.length) : reference);
    expect(withoutBos.startsWith(tokens.bos)).toBe(false);
  });

  it("writes the BOS and EOS texts of the reference tokenizer", () => {
    expect(fmt.eos).toBe(tokens.eos);
    const templateWritesBos = referenceTemplateText(name).includes("bos_token");
    expect(fmt.bos).toBe(templateWritesBos ? tokens.bos : null);
    if (fmt.bos) expect(fmt.render(messages).startsWith(fmt.bos)).toBe(true);
  });

  it("renders a chat without a system message as the template does", () => {
    const noSystem = messages.slice(1);
    expect(fmt.render(noSystem)).toBe(renderReference(name, noSystem));
  });

  it("leaves a trailing assistant message open for the model to continue", () => {
    const prefix = "The files most likely to need changes are";
    const chat = [...messages, { role: "assistant" as const, content: prefix }];
    const rendered = fmt.render(chat);
    expect(rendered).toBe(continueReference(name, chat));
    expect(rendered.endsWith(prefix)).toBe(true);
  });

  it("treats an empty trailing assistant message as the generation prompt", () => {
    expect(fmt.render([...messages, { role: "assistant", content: "" }])).toBe(renderReference(name, messages));
  });

  it("has stop sequences that end an assistant turn as the format writes it", () => {
    expect(fmt.stop.length).toBeGreaterThan(0);
    const answer = "Hello! The greeting is in show_greeting.py.";
    const rendered = fmt.render([
      { role: "user", content: "Where is the greeting?" },
      { role: "assistant", content: answer },
      { role: "user", content: "Thanks" },
    ]);
    const after = rendered.slice(rendered.indexOf(answer) + answer.length).trimStart();
    expect(
      fmt.stop.some((stop) => after.startsWith(stop)),
      `${JSON.stringify(after.slice(0, 40))} starts with one of ${JSON.stringify(fmt.stop)}`,
    ).toBe(true);
  });
});

describe("what the prompt looks like", () => {
  const chat = [
    { role: "system" as const, content: "Be brief." },
    { role: "user" as const, content: "Hi" },
    { role: "assistant" as const, content: "Hello." },
    { role: "user" as const, content: "Name a colour." },
  ];

  it("gemma puts the system text at the start of the first user turn", () => {
    expect(format("gemma").render(chat)).toBe(
      "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n<start_of_turn>user\nName a colour.<end_of_turn>\n<start_of_turn>model\n",
    );
  });

  it("mistral-instruct puts the system text in the first [INST] and ends with [/INST]", () => {
    expect(format("mistral-instruct").render(chat, { bos: false })).toBe(
      " [INST] Be brief.\n\nHi [/INST] Hello.</s> [INST] Name a colour. [/INST]",
    );
  });

  it("llama2 wraps the system text in <<SYS>> inside the first [INST]", () => {
    expect(format("llama2").render(chat)).toBe(
      "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello. </s><s>[INST] Name a colour. [/INST]",
    );
  });

  it("llama3 gives every role a header and ends with the assistant header", () => {
    expect(format("llama3").render(chat)).toBe(
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nName a colour.<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });

  it("alpaca writes its own preamble when the chat has no system message", () => {
    expect(format("alpaca").render(chat.slice(1, 2))).toBe(
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nHi\n\n### Response:\n",
    );
  });

  it("a later system message becomes user text in formats without a system role, merged with its neighbour", () => {
    const later = [...chat, { role: "system" as const, content: "Answer in French." }];
    expect(format("gemma").render(later)).toContain(
      "<start_of_turn>user\nName a colour.\n\nAnswer in French.<end_of_turn>\n<start_of_turn>model\n",
    );
    expect(format("chatml").render(later)).toContain(
      "<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>system\nAnswer in French.<|im_end|>\n",
    );
  });
});
