/**
 * A prompt format from a Hugging Face chat template (Jinja), rendered with
 * @huggingface/jinja the way `transformers`' `apply_chat_template` does:
 * the variables `messages`, `add_generation_prompt`, `bos_token`,
 * `eos_token` (and `tools` when the request has tools), with
 * `trim_blocks` / `lstrip_blocks` (the library's defaults).
 *
 * Messages reach the template as OpenAI sent them, except: `content` is
 * always a string (text parts joined), `developer` becomes `system` and
 * `function` becomes `tool` (templates do not know the newer/older names),
 * and tool calls keep `function.arguments` as the JSON string of the wire.
 * A final assistant message with text is continued the way
 * `apply_chat_template(continue_final_message=True)` does it: the chat is
 * rendered without a generation prompt and cut right after that text.
 * `bos_token` is always the tokenizer's BOS text; for a backend that adds
 * BOS itself (`bos: false`) only the rendering's leading BOS is dropped.
 */
import { Template } from "@huggingface/jinja";
import { contentText, type ChatMessage } from "../protocol/chat-request.js";
import { invalidRequest } from "../protocol/errors.js";
import { withoutLeadingBos } from "./leading-bos.js";
import type { PromptFormat, RenderOptions } from "./types.js";

/** A chat template and the special tokens of its tokenizer. */
export interface ChatTemplateSource {
  /** The Jinja text. */
  template: string;
  bosToken?: string | null;
  eosToken?: string | null;
  /** Where the template comes from, for messages (a file path, `llamacpp /props`, …). */
  origin: string;
}

/**
 * End-of-turn markers of well-known families. A template that writes one
 * of them literally gets it as a stop sequence (with the EOS token): a
 * GGUF's EOS is often `<|end_of_text|>` while turns end with `<|eot_id|>`.
 */
const KNOWN_TURN_ENDS = [
  "<|im_end|>",
  "<|eot_id|>",
  "<|end|>",
  "<end_of_turn>",
  "<|END_OF_TURN_TOKEN|>",
  "<｜end▁of▁sentence｜>",
  "<|endoftext|>",
  "</s>",
];

/**
 * Parses `source.template` and returns a format that renders it.
 * @param name the format's name (`jinja:<file>`, `auto:<source>`)
 * @throws RelayError 400 `invalid_request_error` when the template does not parse
 */
export function jinjaPromptFormat(name: string, description: string, source: ChatTemplateSource): PromptFormat {
  let template: Template;
  try {
    template = new Template(source.template);
  } catch (error) {
    throw invalidRequest(
      `The chat template from ${source.origin} cannot be parsed: ${messageOf(error)}`,
      "prompt_format",
      "invalid_chat_template",
    );
  }
  const bos = source.bosToken ?? null;
  const eos = source.eosToken ?? null;
  const stop = [
    ...new Set([...(eos ? [eos] : []), ...KNOWN_TURN_ENDS.filter((marker) => source.template.includes(marker))]),
  ];
  return {
    name,
    description,
    stop,
    bos,
    eos,
    reference: source.origin,
    render(messages: readonly ChatMessage[], options: RenderOptions = {}): string {
      const prompt = renderTemplate(messages, options);
      return options.bos === false ? withoutLeadingBos(prompt, bos) : prompt;
    },
  };

  /** The template's output with the real `bos_token` (a continued final message cut after its text). */
  function renderTemplate(messages: readonly ChatMessage[], options: RenderOptions): string {
    const variables = {
      bos_token: bos ?? "",
      eos_token: eos ?? "",
      ...(options.tools ? { tools: options.tools } : {}),
    };
    const chat = messages.map(templateMessage);
    const last = chat.at(-1);
    const continues = last?.role === "assistant" && !last.tool_calls && last.content.trim() !== "";
    if (!continues) {
      const withoutEmptyAssistant = last?.role === "assistant" && !last.tool_calls ? chat.slice(0, -1) : chat;
      return run(template, source.origin, {
        ...variables,
        messages: withoutEmptyAssistant,
        add_generation_prompt: true,
      });
    }
    const rendered = run(template, source.origin, { ...variables, messages: chat, add_generation_prompt: false });
    return cutAfterFinalMessage(rendered, last.content, source.origin);
  }
}

/** A message as templates expect it. */
interface TemplateMessage {
  role: string;
  content: string;
  name?: string;
  tool_calls?: { id?: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

function templateMessage(message: ChatMessage): TemplateMessage {
  const role = message.role === "developer" ? "system" : message.role === "function" ? "tool" : message.role;
  const out: TemplateMessage = { role, content: contentText(message.content) };
  if (message.name !== undefined) out.name = message.name;
  if (message.tool_call_id !== undefined) out.tool_call_id = message.tool_call_id;
  if (message.tool_calls?.length) {
    out.tool_calls = message.tool_calls.map((call) => ({
      ...(call.id !== undefined ? { id: call.id } : {}),
      type: call.type ?? "function",
      function: { name: call.function.name, arguments: call.function.arguments ?? "{}" },
    }));
  }
  return out;
}

function run(template: Template, origin: string, variables: Record<string, unknown>): string {
  try {
    return template.render(variables);
  } catch (error) {
    throw invalidRequest(
      `The chat template from ${origin} could not render these messages: ${messageOf(error)}`,
      "messages",
      "chat_template_error",
    );
  }
}

/**
 * What `continue_final_message` keeps: the rendering up to the end of the
 * final message's text (its last occurrence; the stripped text when the
 * template strips it).
 */
function cutAfterFinalMessage(rendered: string, text: string, origin: string): string {
  for (const needle of [text, text.trim()]) {
    const at = rendered.lastIndexOf(needle);
    if (at >= 0) return rendered.slice(0, at + needle.length);
  }
  throw invalidRequest(
    `The chat template from ${origin} does not write the final assistant message's text, so it cannot be continued`,
    "messages",
    "chat_template_error",
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
