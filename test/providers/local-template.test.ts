/**
 * `prompt_format` of a `local` deployment defaults to the model's own chat
 * template, read from the GGUF metadata `tokenizer.chat_template`. The
 * shared tiny model has none (its ChatML fallback is covered in
 * local.test.ts), so this test writes a copy of it with a template added:
 * the GGUF v3 layout (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md)
 * is a header, the metadata key/value pairs, the tensor infos, padding to
 * `general.alignment` (default 32), then the tensor data, whose offsets are
 * relative to the data section and so unchanged by a longer header.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentDefaults } from "../../src/config/schema.js";
import { rows } from "../helpers/db.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";

const SOURCE = fileURLToPath(new URL("../../../shared/models/stories260K.gguf", import.meta.url));

/** A Zephyr-style template (turns `<|role|>\n…</s>\n`), unlike the ChatML fallback. */
const TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

const GGUF_STRING = 8;
const GGUF_ARRAY = 9;
/** Byte sizes of the fixed-size GGUF value types, by type id. */
const FIXED_SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** A copy of the GGUF `source` with one more string metadata entry. */
function withStringMetadata(source: Buffer, key: string, value: string): Buffer {
  expect(source.toString("latin1", 0, 4)).toBe("GGUF");
  expect(source.readUInt32LE(4)).toBe(3);
  const tensorCount = Number(source.readBigUInt64LE(8));
  const kvCount = Number(source.readBigUInt64LE(16));
  let offset = 24;
  let alignment = 32;
  const readString = (): string => {
    const length = Number(source.readBigUInt64LE(offset));
    const text = source.toString("utf8", offset + 8, offset + 8 + length);
    offset += 8 + length;
    return text;
  };
  const skipValue = (type: number): void => {
    if (type === GGUF_STRING) readString();
    else if (type === GGUF_ARRAY) {
      const itemType = source.readUInt32LE(offset);
      const count = Number(source.readBigUInt64LE(offset + 4));
      offset += 12;
      for (let i = 0; i < count; i++) skipValue(itemType);
    } else {
      const size = FIXED_SIZES[type];
      if (size === undefined) throw new Error(`unknown GGUF value type ${type}`);
      offset += size;
    }
  };
  for (let i = 0; i < kvCount; i++) {
    const name = readString();
    const type = source.readUInt32LE(offset);
    offset += 4;
    if (name === "general.alignment") alignment = source.readUInt32LE(offset);
    skipValue(type);
  }
  const kvEnd = offset;
  for (let i = 0; i < tensorCount; i++) {
    readString();
    const dims = source.readUInt32LE(offset);
    offset += 4 + 8 * dims + 4 + 8;
  }
  const infosEnd = offset;
  const dataStart = Math.ceil(infosEnd / alignment) * alignment;

  const ggufString = (text: string): Buffer => {
    const bytes = Buffer.from(text, "utf8");
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(bytes.length));
    return Buffer.concat([length, bytes]);
  };
  const type = Buffer.alloc(4);
  type.writeUInt32LE(GGUF_STRING);
  const entry = Buffer.concat([ggufString(key), type, ggufString(value)]);
  const header = Buffer.from(source.subarray(0, 24));
  header.writeBigUInt64LE(BigInt(kvCount + 1), 16);
  const head = Buffer.concat([header, source.subarray(24, kvEnd), entry, source.subarray(kvEnd, infosEnd)]);
  const padding = Buffer.alloc(Math.ceil(head.length / alignment) * alignment - head.length);
  return Buffer.concat([head, padding, source.subarray(dataStart)]);
}

let dir: string;
let modelPath: string;
let proxy: TestProxy;
let reference: LlamaModel;

beforeAll(async () => {
  dir = tempDir("llm-relay-gguf-");
  modelPath = path.join(dir, "stories260K-zephyr.gguf");
  fs.writeFileSync(modelPath, withStringMetadata(fs.readFileSync(SOURCE), "tokenizer.chat_template", TEMPLATE));
  const llama = await getLlama({ build: "never", logLevel: LlamaLogLevel.error });
  reference = await llama.loadModel({ modelPath });
  proxy = await startTestProxy({
    models: { tiny: { ...deploymentDefaults("local"), model_path: modelPath, threads: 1, context_window: 512 } },
  });
});
afterAll(async () => {
  await proxy?.close();
  await reference?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("local provider: the GGUF's chat template", () => {
  it("the rewritten file is a valid GGUF carrying the template", () => {
    expect(reference.fileInfo.metadata.tokenizer?.chat_template).toBe(TEMPLATE);
  });

  it("renders prompts with the model's own template when no prompt_format is configured", async () => {
    const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
    const messages = [
      { role: "system" as const, content: "You tell short stories." },
      { role: "user" as const, content: "Once upon a time" },
    ];
    const completion = await client.chat.completions.create(
      { model: "tiny", messages, max_tokens: 12 },
      { headers: { "x-request-id": "local-template-1" } },
    );
    // The template's rendering, written out; `</s>` is the model's EOS token (one token), and llama.cpp adds the BOS.
    const zephyr = "<|system|>\nYou tell short stories.</s>\n<|user|>\nOnce upon a time</s>\n<|assistant|>\n";
    const chatml =
      "<|im_start|>system\nYou tell short stories.<|im_end|>\n<|im_start|>user\nOnce upon a time<|im_end|>\n<|im_start|>assistant\n";
    const expected = reference.tokenize(zephyr, true).length + 1;
    expect(expected).not.toBe(reference.tokenize(chatml, true).length + 1);
    expect(completion.usage?.prompt_tokens).toBe(expected);
    expect(completion.choices[0]?.message.content?.trim()).not.toBe("");
    await proxy.server.ctx.recorder.flush();
    const [row] = rows<{ input_tokens: number; usage_estimated: number }>(
      proxy.dbPath,
      "select r.input_tokens, x.usage_estimated from responses r join llm_relay_exchanges x on x.response_id = r.id where x.request_id = ?",
      "local-template-1",
    );
    expect(row).toEqual({ input_tokens: expected, usage_estimated: 0 });
  });
});
