/**
 * A signal to the process the user started stops the server: `npm start`
 * (npm 11 runs the script through `sh -c` and forwards SIGINT/SIGTERM to
 * that shell only; Debian's dash forked the server and died, leaving it
 * holding the port), `npm exec` (how `npx llm-relay` runs a bin: a shell
 * that forks), and the `llm-relay` binary itself. Each time the server's
 * graceful stop runs: the process tree is gone, the port is free, the
 * exchange is in logs.db and the "llm-relay stopped" line was logged.
 *
 * `npm start` runs `dist/`: the sources are transpiled (esbuild, one file
 * each, as `tsc` lays them out) into a temp copy of the package with the
 * real package.json, so the `start` script under test is the one shipped.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { buildSync } from "esbuild";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, listeningUrl, logLines, REPO_ROOT, withTimeout } from "../helpers/cli.js";
import { rows } from "../helpers/db.js";
import { tempDir } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

/** The temp copy of the package: package.json, dist/, node_modules → the repository's. */
let pkg: string;

/** Every file under `dir`. */
function walk(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));
}

beforeAll(() => {
  pkg = tempDir("llm-relay-pkg-");
  const src = path.join(REPO_ROOT, "src");
  buildSync({
    entryPoints: walk(src).filter((file) => file.endsWith(".ts")),
    outdir: path.join(pkg, "dist"),
    outbase: src,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "error",
  });
  const data = path.join(src, "catalog", "data");
  fs.mkdirSync(path.join(pkg, "dist", "catalog", "data"), { recursive: true });
  for (const name of fs.readdirSync(data))
    fs.copyFileSync(path.join(data, name), path.join(pkg, "dist", "catalog", "data", name));
  fs.copyFileSync(path.join(REPO_ROOT, "package.json"), path.join(pkg, "package.json"));
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(pkg, "node_modules"));
  fs.chmodSync(path.join(pkg, "dist", "cli", "main.js"), 0o755);
});
afterAll(() => fs.rmSync(pkg, { recursive: true, force: true }));

/** A started command and its output. */
interface Started {
  child: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The proxy's URL, once it logged "llm-relay listening". */
  url: string;
  dbPath: string;
}

/** Every process started by a test, with its descendants, to SIGKILL afterwards if a failure left any. */
const started: number[] = [];

afterEach(() => {
  for (const pid of started.splice(0).flatMap((pid) => [...descendants(pid), pid])) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** The ids of `pid`'s live descendants (from /proc: Linux). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(name), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Whether process `pid` is alive (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Whether nothing listens on `port` of 127.0.0.1 any more (we can bind it ourselves). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Spawns `command args…` in the package copy and waits for the proxy it starts to listen. */
async function start(command: string, args: string[]): Promise<Started> {
  const dbPath = path.join(pkg, `logs-${started.length}-${Date.now()}.db`);
  const child = spawn(command, [...args, "--port", "0", "--db", dbPath], {
    cwd: pkg,
    env: cleanEnv(pkg, { npm_config_update_notifier: "false", npm_config_fund: "false" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child.pid!);
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (piece: string) => (out += piece));
  child.stderr.setEncoding("utf8").on("data", (piece: string) => (out += piece));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  await until(
    () => `the proxy to listen\n${out}`,
    () => listeningUrl(out) !== null,
    { timeoutMs: 15_000 },
  );
  return { child, out: () => out, exited, url: listeningUrl(out)!, dbPath };
}

/** One chat exchange through the proxy, answered by echo. */
async function ask(url: string, text: string): Promise<void> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "echo", messages: [{ role: "user", content: text }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
}

/**
 * Sends `signal` to the started process right after an exchange, then checks the stop was complete:
 * the process exited, no process it started is left, the port is free, the exchange was recorded.
 */
async function stopsCleanly(
  proc: Started,
  signal: NodeJS.Signals,
  expected: { code: number | null; alsoToServer?: boolean },
): Promise<void> {
  const server = [proc.child.pid!, ...descendants(proc.child.pid!)];
  const port = Number(new URL(proc.url).port);
  await ask(proc.url, `recorded before ${signal}`);
  // A Ctrl-C in a terminal reaches the server itself too, and then npm forwards its own copy.
  if (expected.alsoToServer) process.kill(server.at(-1)!, signal);
  proc.child.kill(signal);
  const exit = await withTimeout(proc.exited, 10_000, () => `the process did not exit\n${proc.out()}`);
  await until(
    () => `every process of the tree to end (left: ${server.filter(alive).join(", ")})\n${proc.out()}`,
    () => server.every((pid) => !alive(pid)),
    { timeoutMs: 5_000 },
  );
  expect(await portFree(port)).toBe(true);
  expect(exit.code).toBe(expected.code);
  expect(logLines(proc.out()).some((line) => line.msg === "llm-relay stopped")).toBe(true);
  expect(rows<{ prompt: string }>(proc.dbPath, "SELECT prompt FROM responses")).toEqual([
    { prompt: `recorded before ${signal}` },
  ]);
}

describe("stopping the server with a signal to the process the user started", () => {
  it("npm start, SIGTERM to npm: the server stops gracefully and frees its port", async () => {
    const proc = await start("npm", ["start", "--"]);
    await stopsCleanly(proc, "SIGTERM", { code: 0 });
  });

  it("npm start, SIGINT to npm (as a Ctrl-C would, also sent to the server itself): one graceful stop", async () => {
    const proc = await start("npm", ["start", "--"]);
    await stopsCleanly(proc, "SIGINT", { code: 0, alsoToServer: true });
    expect(proc.out()).not.toContain("exiting now");
  });

  it("npm exec (what npx runs a bin through: a shell that forks), SIGTERM to npm: the server stops too", async () => {
    const proc = await start("npm", ["exec", "--", "node", "dist/cli/main.js", "serve"]);
    await stopsCleanly(proc, "SIGTERM", { code: null });
  });

  it("the llm-relay binary, SIGTERM and SIGINT: exits 0 after a graceful stop", async () => {
    const bin = path.join(pkg, "dist", "cli", "main.js");
    await stopsCleanly(await start(bin, ["serve"]), "SIGTERM", { code: 0 });
    await stopsCleanly(await start(bin, ["serve"]), "SIGINT", { code: 0 });
  });
});
