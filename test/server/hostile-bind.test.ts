/**
 * Open to the network without a word (issue 16, failure 10): `--host 0.0.0.0`
 * with no API key served anyone who could reach the port, with the upstream
 * keys the proxy holds, and logged nothing about it. Through the real CLI:
 * such a start is refused (exit 1, a message naming the ways out) unless
 * `--allow-unauthenticated` (or its env/config forms) is given, and then a
 * warning is logged; a key in the store or a master key lets it start.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isLoopbackHost } from "../../src/server/bind-check.js";
import { killAll, logLines, outputOf, runCli, startServe, type ServeProcess } from "../helpers/cli.js";
import { tempDir } from "../helpers/proxy.js";

let dir: string;
beforeAll(() => {
  dir = tempDir("llm-relay-bind-");
});
afterEach(async () => {
  await killAll();
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh working directory with its own logs.db path. */
function workdir(name: string): { cwd: string; db: string } {
  const cwd = path.join(dir, name);
  fs.mkdirSync(cwd, { recursive: true });
  return { cwd, db: path.join(cwd, "logs.db") };
}

/** The warnings (pino level 40) the process logged so far. */
function warnings(proc: ServeProcess): string[] {
  return logLines(proc.stdout())
    .filter((line) => line.level === 40)
    .map((line) => String(line.msg));
}

/** `GET /v1/models` through 127.0.0.1 on the port the process listens on. */
async function modelsStatus(proc: ServeProcess): Promise<number> {
  const port = new URL(proc.url).port;
  return (await fetch(`http://127.0.0.1:${port}/v1/models`)).status;
}

describe("serve on a non-loopback host", () => {
  it("refuses to start with no key, no master key and no --allow-unauthenticated, and says why", async () => {
    const { cwd, db } = workdir("refused");
    const result = await runCli(["serve", "--host", "0.0.0.0", "--port", "0", "--db", db], { cwd });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
    expect(result.stderr).toContain("0.0.0.0");
    expect(result.stderr).toContain("--allow-unauthenticated");
    expect(result.stderr).toContain("llm-relay keys create");
    expect(result.stderr).toContain("LLM_RELAY_MASTER_KEY");
    expect(result.stdout).not.toContain("llm-relay listening");
  });

  it.each([
    ["--allow-unauthenticated", ["--allow-unauthenticated"], {}],
    ["LLM_RELAY_ALLOW_UNAUTHENTICATED=1", [], { LLM_RELAY_ALLOW_UNAUTHENTICATED: "1" }],
  ] as const)("starts with %s, logs a warning, and serves without a key", async (name, flags, env) => {
    const { cwd, db } = workdir(`allowed-${name.length}`);
    const proc = await startServe(["--host", "0.0.0.0", "--port", "0", "--db", db, ...flags], { cwd, env: { ...env } });
    expect(
      warnings(proc).some((msg) => msg.includes("without authentication")),
      outputOf(proc),
    ).toBe(true);
    expect(await modelsStatus(proc)).toBe(200);
  });

  it("starts with allow_unauthenticated: true in the config file", async () => {
    const { cwd, db } = workdir("allowed-config");
    fs.writeFileSync(path.join(cwd, "llm-relay.yaml"), "default_model: echo\nallow_unauthenticated: true\n");
    const proc = await startServe(["--host", "0.0.0.0", "--port", "0", "--db", db], { cwd });
    expect(
      warnings(proc).some((msg) => msg.includes("without authentication")),
      outputOf(proc),
    ).toBe(true);
  });

  it("starts without a warning once an API key exists, and then asks for it", async () => {
    const { cwd, db } = workdir("with-key");
    const created = await runCli(["keys", "create", "--tenant", "acme", "--db", db], { cwd });
    expect(created.code, created.stderr).toBe(0);
    const proc = await startServe(["--host", "0.0.0.0", "--port", "0", "--db", db], { cwd });
    expect(warnings(proc)).toEqual([]);
    expect(await modelsStatus(proc)).toBe(401);
  });

  it("starts with LLM_RELAY_MASTER_KEY set", async () => {
    const { cwd, db } = workdir("master");
    const proc = await startServe(["--host", "0.0.0.0", "--port", "0", "--db", db], {
      cwd,
      env: { LLM_RELAY_MASTER_KEY: "master-secret-for-test" },
    });
    expect(proc.alive()).toBe(true);
  });

  it("starts on 127.0.0.1 without a key and without a warning", async () => {
    const { cwd, db } = workdir("loopback");
    const proc = await startServe(["--host", "127.0.0.1", "--port", "0", "--db", db], { cwd });
    expect(warnings(proc)).toEqual([]);
  });
});

describe("isLoopbackHost", () => {
  it.each(["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"])(
    "%s is loopback",
    (host) => {
      expect(isLoopbackHost(host)).toBe(true);
    },
  );
  it.each(["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", "::ffff:10.0.0.1", "128.0.0.1"])(
    "%s is not",
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );
});
