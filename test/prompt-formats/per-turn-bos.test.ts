/**
 * BOS written per turn (issue 17, item 9). A backend that adds BOS itself
 * when tokenizing (llama.cpp, KoboldCpp, …) adds exactly one, at the start;
 * so the prompt the proxy sends it must be the reference template's output
 * minus exactly its leading BOS text — every later BOS the template writes
 * (Llama 2 opens each user turn with `<s>`) stays. Checked for every named
 * format whose reference template writes `bos_token`, for a `jinja:`/`auto`
 * template, and over real HTTP against the fake llama-server.
 */
import { Template } from "@huggingface/jinja";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../src/protocol/chat-request.js";
import { jinjaPromptFormat } from "../../src/prompt-formats/jinja-format.js";
import { getPromptFormat, listPromptFormats } from "../../src/prompt-formats/registry.js";
import type { PromptFormat } from "../../src/prompt-formats/types.js";
import { startFakeLlamaCpp, type FakeLlamaCpp } from "../helpers/fake-llamacpp.js";
import { aiderRequest } from "../helpers/fixtures.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { rawDeployment } from "../helpers/raw-provider.js";
import { referenceTemplateText, REFERENCE_TOKENS, renderReference } from "./reference-templates.js";

/** Three user turns and two answers after a system message. */
const THREE_TURNS: { role: "system" | "user" | "assistant"; content: string }[] = [
  { role: "system", content: "You are a terse assistant." },
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello." },
  { role: "user", content: "Go on" },
  { role: "assistant", content: "Red, green, blue." },
  { role: "user", content: "One more?" },
];
const CONVERSATIONS: [string, (ChatMessage & { content: string })[]][] = [
  ["three turns with a system message", THREE_TURNS],
  ["the real 12-message aider request", aiderRequest().messages],
];

function format(name: string): PromptFormat {
  const found = getPromptFormat(name);
  if (!found) throw new Error(`no format ${name}`);
  return found;
}

function count(text: string, token: string): number {
  return text.split(token).length - 1;
}

/** Named formats whose reference template writes `bos_token` at all. */
const WRITES_BOS = listPromptFormats()
  .map((info) => info.name)
  .filter((name) => referenceTemplateText(name).includes("bos_token"));

describe("which reference templates write BOS more than once", () => {
  it("llama2 alone writes a BOS per user turn; the others write one, at the start", () => {
    expect(WRITES_BOS.sort()).toEqual(["command-r", "deepseek", "gemma", "llama2", "llama3", "mistral-instruct"]);
    const perTurn = WRITES_BOS.filter(
      (name) => count(renderReference(name, THREE_TURNS), REFERENCE_TOKENS[name]!.bos) > 1,
    );
    expect(perTurn).toEqual(["llama2"]);
    expect(count(renderReference("llama2", THREE_TURNS), "<s>")).toBe(3);
  });
});

describe.each(WRITES_BOS)("%s", (name) => {
  const fmt = format(name);
  const bos = REFERENCE_TOKENS[name]!.bos;

  it.each(CONVERSATIONS)(
    "with the proxy adding BOS, renders %s exactly as the reference template",
    (_label, messages) => {
      const reference = renderReference(name, messages);
      expect(reference.startsWith(bos)).toBe(true);
      expect(fmt.render(messages)).toBe(reference);
      expect(fmt.render(messages, { bos: true })).toBe(reference);
    },
  );

  it.each(CONVERSATIONS)(
    "with the backend adding BOS, renders %s as the reference template minus exactly one leading BOS",
    (_label, messages) => {
      const reference = renderReference(name, messages);
      const rendered = fmt.render(messages, { bos: false });
      expect(rendered).toBe(reference.slice(bos.length));
      expect(count(rendered, bos)).toBe(count(reference, bos) - 1);
    },
  );
});

describe("llama2 in detail", () => {
  it("keeps the <s> of every later user turn when the backend adds the first", () => {
    expect(format("llama2").render(THREE_TURNS, { bos: false })).toBe(
      "[INST] <<SYS>>\nYou are a terse assistant.\n<</SYS>>\n\nHi [/INST] Hello. </s><s>[INST] Go on [/INST] Red, green, blue. </s><s>[INST] One more? [/INST]",
    );
  });

  it("keeps the later <s> in a prompt that continues a trailing assistant message", () => {
    const chat = [...THREE_TURNS, { role: "assistant" as const, content: "Yes:" }];
    expect(format("llama2").render(chat, { bos: false })).toBe(format("llama2").render(chat).slice("<s>".length));
    expect(format("llama2").render(chat, { bos: false })).toContain("</s><s>[INST] Go on [/INST]");
  });
});

describe("a jinja:/auto template with per-turn BOS", () => {
  const fromTemplate = jinjaPromptFormat("jinja:llama2.jinja", "Llama 2 from its template", {
    template: referenceTemplateText("llama2"),
    bosToken: "<s>",
    eosToken: "</s>",
    origin: "llama2.jinja",
  });

  it.each(CONVERSATIONS)(
    "renders %s as the template does, minus one leading BOS when the backend adds it",
    (_label, messages) => {
      const reference = renderReference("llama2", messages);
      expect(fromTemplate.render(messages)).toBe(reference);
      expect(fromTemplate.render(messages, { bos: false })).toBe(reference.slice("<s>".length));
    },
  );
});

describe("over HTTP: the prompt llama-server receives", () => {
  let fake: FakeLlamaCpp;
  let proxy: TestProxy;
  let client: OpenAI;
  beforeAll(async () => {
    fake = await startFakeLlamaCpp();
    proxy = await startTestProxy({
      models: {
        "llama-2": rawDeployment("llamacpp", fake.url, { prompt_format: "llama2" }),
        "llama-2-auto": rawDeployment("llamacpp", fake.url, { prompt_format: "auto" }),
      },
    });
    client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(async () => {
    await proxy?.close();
    await fake?.close();
  });

  const expected = new Template(referenceTemplateText("llama2")).render({
    messages: THREE_TURNS,
    bos_token: "<s>",
    eos_token: "</s>",
    add_generation_prompt: true,
  });

  it("prompt_format llama2: the reference rendering without its first <s> (llama.cpp adds that one)", async () => {
    await client.chat.completions.create({ model: "llama-2", messages: THREE_TURNS });
    expect(fake.completions().at(-1)!.body!.prompt).toBe(expected.slice("<s>".length));
  });

  it("prompt_format auto with a Llama 2 template from GET /props: the same prompt", async () => {
    fake.set({ chatTemplate: referenceTemplateText("llama2"), extraProps: { bos_token: "<s>", eos_token: "</s>" } });
    await client.chat.completions.create({ model: "llama-2-auto", messages: THREE_TURNS });
    expect(fake.completions().at(-1)!.body!.prompt).toBe(expected.slice("<s>".length));
  });
});
