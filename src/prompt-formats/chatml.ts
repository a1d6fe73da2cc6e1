/**
 * ChatML (`<|im_start|>role\n…<|im_end|>`), as OpenAI documented it and as
 * Qwen, Hermes and many fine-tunes use it. The default format.
 */
import { contentText } from "../protocol/chat-request.js";
import type { PromptFormat } from "./types.js";

/** The ChatML format. */
export const chatml: PromptFormat = {
  name: "chatml",
  description: "ChatML: <|im_start|>role … <|im_end|> (Qwen, Hermes, Yi, many fine-tunes); the default",
  stop: ["<|im_end|>", "<|im_start|>"],
  bos: null,
  eos: "<|im_end|>",
  render(messages) {
    let out = "";
    const last = messages.length - 1;
    messages.forEach((message, i) => {
      const text = contentText(message.content);
      if (i === last && message.role === "assistant") out += `<|im_start|>assistant\n${text}`;
      else out += `<|im_start|>${message.role}\n${text}<|im_end|>\n`;
    });
    if (messages[last]?.role !== "assistant") out += "<|im_start|>assistant\n";
    return out;
  },
};
