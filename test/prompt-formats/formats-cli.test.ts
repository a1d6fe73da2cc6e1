/**
 * `llm-relay formats` as a process: a table with every format's name, its
 * stop sequences and description, and `--json` with the full rows.
 */
import fs from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killAll, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/proxy.js";

const NAMES = [
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

let cwd: string;
beforeAll(() => {
  cwd = tempDir("llm-relay-formats-cli-");
});
afterEach(killAll);
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

describe("llm-relay formats", () => {
  it("prints a table: one line per format with its stop sequences, then the default and the special values", async () => {
    const result = await runCli(["formats"], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^name\s+stop sequences\s+description$/);
    for (const name of NAMES)
      expect(
        lines.some((line) => line.startsWith(`${name} `)),
        name,
      ).toBe(true);
    const llama3 = lines.find((line) => line.startsWith("llama3 "))!;
    expect(llama3).toContain('"<|eot_id|>" "<|end_of_text|>"');
    expect(llama3).toContain("Llama 3");
    const gemma = lines.find((line) => line.startsWith("gemma "))!;
    expect(gemma).toContain('"<end_of_turn>"');
    expect(result.stdout).toContain("default: chatml");
    expect(result.stdout).toContain("jinja:<file>");
    expect(result.stdout).toContain("auto (the model's own template");
  });

  it("--json prints every format with stops, BOS/EOS texts and its reference template", async () => {
    const result = await runCli(["formats", "--json"], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const formats = JSON.parse(result.stdout) as {
      name: string;
      description: string;
      stop: string[];
      bos: string | null;
      eos: string | null;
      reference: string;
    }[];
    expect(formats.map((format) => format.name)).toEqual(NAMES);
    expect(formats.find((format) => format.name === "mistral-instruct")).toMatchObject({
      stop: ["</s>", "[INST]"],
      bos: "<s>",
      eos: "</s>",
    });
    expect(formats.find((format) => format.name === "deepseek")).toMatchObject({
      bos: "<｜begin▁of▁sentence｜>",
      eos: "<｜end▁of▁sentence｜>",
      reference: "deepseek-ai/DeepSeek-R1 tokenizer_config.json",
    });
    for (const format of formats) {
      expect(format.stop.length, format.name).toBeGreaterThan(0);
      expect(format.description.length, format.name).toBeGreaterThan(10);
    }
  });
});
