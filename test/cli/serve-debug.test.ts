/**
 * `llm-relay serve --debug` (and `LLM_RELAY_DEBUG=1`) against a loopback
 * llama-server: the rendered prompt and each raw backend payload appear in
 * the log, a key-like field of the request never does; without the flag
 * neither appears, but the missing-format warning does, once.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { killAll, logLines, startServe, type ServeProcess } from "../helpers/cli.js";
import { send } from "../helpers/exchanges.js";
import { startFakeLlamaCpp, type FakeLlamaCpp } from "../helpers/fake-llamacpp.js";
import { tempDir } from "../helpers/proxy.js";
import { STORY_CHATML, STORY_MESSAGES } from "../helpers/raw-provider.js";
import { until } from "../helpers/until.js";

let fake: FakeLlamaCpp;
let dir: string;
beforeAll(async () => {
  fake = await startFakeLlamaCpp();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  dir = tempDir("llm-relay-debug-");
});
afterEach(async () => {
  await killAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function serve(flags: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const configPath = path.join(dir, "relay.yaml");
  fs.writeFileSync(
    configPath,
    [
      "models:",
      "  story:",
      "    provider: llamacpp",
      `    base_url: ${fake.url}`,
      "  plain:",
      "    provider: llamacpp",
      `    base_url: ${fake.url}`,
      "",
    ].join("\n"),
  );
  return startServe(["--config", configPath, "--db", path.join(dir, "logs.db"), "--port", "0", ...flags], {
    cwd: dir,
    env,
  });
}

const SECRET = "sk-debug-secret-0123456789";

async function ask(proc: ServeProcess, model: string, stream: boolean): Promise<void> {
  const res = await send(`${proc.url}/v1/chat/completions`, {
    body: { model, stream, messages: STORY_MESSAGES, max_tokens: 8, api_key: SECRET },
  });
  expect(res.status).toBe(200);
}

/** Waits until the log holds a line matching `test` (the child writes asynchronously). */
async function logged(
  proc: ServeProcess,
  test: (line: Record<string, unknown>) => boolean,
  count = 1,
): Promise<Record<string, unknown>[]> {
  await until(`${count} matching log line(s)`, () => logLines(proc.stdout()).filter(test).length >= count);
  return logLines(proc.stdout());
}

describe("serve --debug", () => {
  it("logs the rendered prompt and each raw backend payload, never the key-like field", async () => {
    const proc = await serve(["--debug"]);
    await ask(proc, "story", false);
    await ask(proc, "story", true);
    const lines = await logged(proc, (line) => line.msg === "chat.completion", 2);
    const prompts = lines.filter((line) => line.msg === "rendered prompt");
    expect(prompts).toHaveLength(2);
    expect(prompts[0]).toMatchObject({ provider: "llamacpp", format: "chatml", prompt: STORY_CHATML });
    expect(lines.some((line) => line.msg === "raw backend answer")).toBe(true);
    expect(lines.filter((line) => line.msg === "raw backend delta").length).toBeGreaterThan(1);
    expect(proc.stdout()).not.toContain(SECRET);
  });

  it("LLM_RELAY_DEBUG=1 does the same", async () => {
    const proc = await serve([], { LLM_RELAY_DEBUG: "1" });
    await ask(proc, "story", false);
    const lines = await logged(proc, (line) => line.msg === "rendered prompt");
    expect(lines.some((line) => line.msg === "rendered prompt" && line.prompt === STORY_CHATML)).toBe(true);
  });

  it("without it, logs no prompt, and warns once per deployment that has no prompt_format", async () => {
    const proc = await serve([]);
    await ask(proc, "story", false);
    await ask(proc, "story", true);
    await ask(proc, "plain", false);
    const lines = await logged(proc, (line) => line.msg === "chat.completion" && line.model === "plain");
    expect(lines.some((line) => line.msg === "rendered prompt" || line.msg === "raw backend delta")).toBe(false);
    expect(
      lines.filter((line) => typeof line.msg === "string" && line.msg.startsWith("no prompt_format configured")),
    ).toHaveLength(2);
  });
});
