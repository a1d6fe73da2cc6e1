/**
 * How the real `llm-relay serve` process finds its configuration: config
 * file (explicit or `./llm-relay.yaml`), environment, flags, defaults, and
 * how it fails (exit 1 with a message naming the culprit) on a bad config
 * file or a taken port.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { killAll, outputOf, runCli, startServe } from "../helpers/cli.js";
import { closedPort, openAIError, send } from "../helpers/exchanges.js";
import { tempDir } from "../helpers/proxy.js";

let dir: string;

beforeEach(() => {
  dir = tempDir("llm-relay-cli-");
});
afterEach(async () => {
  await killAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const echoRequest = { model: "TestModelName", messages: [{ role: "user", content: "hello from the test" }] };

describe("llm-relay serve: configuration", () => {
  it("an invalid config file: exit 1, stderr names the file and the bad key", async () => {
    const file = write("bad.yaml", 'models:\n  a:\n    provider: openai-compatible\n    base_url: "nope"\n');
    const result = await runCli(["serve", "--config", file, "--port", "0", "--db", path.join(dir, "logs.db")], {
      cwd: dir,
    });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toContain("models.a.base_url");
    expect(result.stdout).not.toContain("llm-relay listening");
    expect(fs.existsSync(path.join(dir, "logs.db"))).toBe(false);
  });

  it("a missing --config file: exit 1, stderr names the path", async () => {
    const result = await runCli(
      ["serve", "--config", "missing.yaml", "--port", "0", "--db", path.join(dir, "logs.db")],
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(path.join(dir, "missing.yaml"));
    expect(result.stdout).not.toContain("llm-relay listening");
  });

  it("without a config file: binds 127.0.0.1 per LLM_RELAY_HOST/LLM_RELAY_PORT, answers any model through echo, lists echo", async () => {
    const port = await closedPort();
    const proc = await startServe(["--db", "logs.db"], {
      cwd: dir,
      env: { LLM_RELAY_HOST: "127.0.0.1", LLM_RELAY_PORT: String(port) },
    });
    expect(proc.url).toBe(`http://127.0.0.1:${port}`);

    const answer = await send(`${proc.url}/v1/chat/completions`, { body: echoRequest });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({
      object: "chat.completion",
      choices: [{ message: { role: "assistant", content: "hello from the test" } }],
    });

    const models = await send(`${proc.url}/v1/models`);
    expect(models.status).toBe(200);
    const ids = (models.json as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids).toContain("echo");
    // The environment has no API keys, so no hosted preset is listed.
    expect(ids).toEqual(["echo"]);

    // `--db logs.db` is relative to the working directory.
    proc.child.kill("SIGTERM");
    expect(await proc.waitForExit(10_000), outputOf(proc)).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(path.join(dir, "logs.db"))).toBe(true);
  });

  it("--port beats LLM_RELAY_PORT", async () => {
    const envPort = await closedPort();
    const flagPort = await closedPort();
    const proc = await startServe(["--port", String(flagPort), "--db", "logs.db"], {
      cwd: dir,
      env: { LLM_RELAY_PORT: String(envPort) },
    });
    expect(proc.url).toBe(`http://127.0.0.1:${flagPort}`);
    expect((await send(`${proc.url}/health`)).status).toBe(200);
  });

  it("a config file without default_model: an unknown model gets 404 model_not_found", async () => {
    const file = write("relay.yaml", "models:\n  known:\n    provider: echo\n");
    const proc = await startServe(["--config", file, "--port", "0", "--db", "logs.db"], { cwd: dir });
    const unknown = await send(`${proc.url}/v1/chat/completions`, { body: echoRequest });
    expect(unknown.status, unknown.text).toBe(404);
    expect(openAIError(unknown).code).toBe("model_not_found");
    const known = await send(`${proc.url}/v1/chat/completions`, { body: { ...echoRequest, model: "known" } });
    expect(known.status, known.text).toBe(200);
  });

  it("./llm-relay.yaml in the working directory is read without --config", async () => {
    const port = await closedPort();
    write("llm-relay.yaml", `port: ${port}\ndb: from-config.db\nmodels:\n  from-yaml:\n    provider: echo\n`);
    const proc = await startServe([], { cwd: dir });
    expect(proc.url).toBe(`http://127.0.0.1:${port}`);
    const models = await send(`${proc.url}/v1/models`);
    expect((models.json as { data: { id: string }[] }).data.map((m) => m.id).sort()).toEqual(["echo", "from-yaml"]);
    // A config file without default_model: unknown names are not sent to echo.
    expect((await send(`${proc.url}/v1/chat/completions`, { body: echoRequest })).status).toBe(404);
    expect(
      (await send(`${proc.url}/v1/chat/completions`, { body: { ...echoRequest, model: "from-yaml" } })).status,
    ).toBe(200);
    proc.child.kill("SIGTERM");
    expect(await proc.waitForExit(10_000), outputOf(proc)).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(path.join(dir, "from-config.db"))).toBe(true);
  });

  it("a port already in use: exit 1 with a clear message", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const result = await runCli(["serve", "--port", String(port), "--db", path.join(dir, "logs.db")], { cwd: dir });
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
      expect(result.stderr).toMatch(/cannot start/);
      expect(result.stderr).toMatch(/EADDRINUSE|in use/i);
      expect(result.stderr).toContain(String(port));
      expect(result.stdout).not.toContain("llm-relay listening");
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
