/**
 * Where a format's tool convention shows: `llm-relay formats` (a line per
 * convention naming its formats; `--json` rows) and
 * `GET /internal/prompt-formats` over real HTTP.
 */
import fs from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killAll, runCli } from "../helpers/cli.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy;
let cwd: string;
beforeAll(async () => {
  proxy = await startTestProxy();
  cwd = tempDir("llm-relay-formats-tools-");
});
afterEach(killAll);
afterAll(async () => {
  await proxy.close();
  fs.rmSync(cwd, { recursive: true, force: true });
});

describe("a format's tool convention", () => {
  it("llm-relay formats names the hermes convention and its formats; --json carries toolConvention on the formats that have one", async () => {
    const table = await runCli(["formats"], { cwd });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain("tool convention hermes: chatml (");
    expect(table.stdout).toContain("tool convention llama3-json: llama3 (");
    expect(table.stdout).toContain("tool convention memgpt: airoboros, dolphin (");
    expect(table.stdout).toContain("tool convention mistral: mistral-instruct (");

    const json = await runCli(["formats", "--json"], { cwd });
    expect(json.code, json.stderr).toBe(0);
    const formats = JSON.parse(json.stdout) as { name: string; toolConvention?: string }[];
    expect(
      formats.filter((format) => format.toolConvention).map((format) => [format.name, format.toolConvention]),
    ).toEqual([
      ["chatml", "hermes"],
      ["llama3", "llama3-json"],
      ["mistral-instruct", "mistral"],
      ["airoboros", "memgpt"],
      ["dolphin", "memgpt"],
    ]);
  });

  it("GET /internal/prompt-formats shows it on the format's row", async () => {
    const response = await fetch(`${proxy.url}/internal/prompt-formats`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { name: string; toolConvention?: string }[] };
    expect(body.data.find((format) => format.name === "chatml")?.toolConvention).toBe("hermes");
    expect(body.data.find((format) => format.name === "llama3")?.toolConvention).toBe("llama3-json");
    expect(body.data.find((format) => format.name === "zephyr")?.toolConvention).toBeUndefined();
  });
});
