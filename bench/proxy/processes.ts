/**
 * The proxy benchmark's child processes: spawning, pinning and stopping the
 * mock upstream, the proxy and the load generator; waiting for ports and
 * /health; reading a proxy's peak RSS; stopping everything on a signal.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Options, Scenario } from "./cli-options.js";
import type { LoadResult } from "./loadgen.js";
import { FASTIFY_FLOOR_TS, FLOOR_TS, LOADGEN_TS, MOCK_TS, PROXY_MAIN, REPO, WATCH_PARENT } from "./paths.js";

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

function killAll(signal: NodeJS.Signals): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}

let interrupted = false;

/**
 * Kills the children when this process exits, and on SIGINT / SIGTERM /
 * SIGHUP asks them to stop, marks the run interrupted and exits with 130
 * after 3 s (at once on a second signal). Call once, before anything starts.
 */
export function installSignalHandlers(): void {
  process.on("exit", () => killAll("SIGKILL"));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      process.stderr.write(`\nbench: ${signal}, stopping the children\n`);
      killAll("SIGTERM");
      setTimeout(() => process.exit(130), 3000).unref();
    });
  }
}

/** Whether a signal asked the benchmark to stop. */
export function isInterrupted(): boolean {
  return interrupted;
}

/** Whether `taskset` is on the PATH. */
export function hasTaskset(): boolean {
  return spawnSync("sh", ["-c", "command -v taskset"], { stdio: "ignore" }).status === 0;
}

/** The argv prefix that pins a command to one core, or nothing. */
function pinPrefix(pinned: boolean, core: number): string[] {
  return pinned ? ["taskset", "-c", String(core)] : [];
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith("LLM_RELAY_") && !k.startsWith("NODE_OPTIONS")) env[k] = v;
  return env;
}

function spawnCmd(argv: string[], stdio: "pipe-out" | "quiet"): ChildProcess {
  const [cmd, ...args] = argv;
  const child = spawn(cmd!, args, {
    cwd: REPO,
    env: childEnv(),
    stdio: stdio === "pipe-out" ? ["ignore", "pipe", "pipe"] : ["ignore", "ignore", "pipe"],
  });
  return track(child);
}

/** Collects a child's stderr (last 4 KB) for error messages. */
function stderrTail(child: ChildProcess): () => string {
  let tail = "";
  child.stderr?.on("data", (b: Buffer) => {
    tail = (tail + b.toString("utf8")).slice(-4096);
  });
  return () => tail.trim();
}

/** Resolves with a child's exit code once it exits; SIGKILLs it after `timeoutMs`. */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running mock upstream. */
export interface Mock {
  child: ChildProcess;
  port: number;
}

/** Starts the mock upstream (on core 1 when pinned) and waits for the port it prints. */
export async function startMock(options: Options, pinned: boolean): Promise<Mock> {
  const child = spawnCmd(
    [
      ...pinPrefix(pinned, 1),
      process.execPath,
      "--import",
      "tsx",
      "--import",
      WATCH_PARENT,
      MOCK_TS,
      "--port",
      "0",
      "--chunks",
      String(options.chunks),
      "--chunk-delay-ms",
      String(options.chunkDelayMs),
    ],
    "pipe-out",
  );
  const errors = stderrTail(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mock upstream did not start in 20 s: ${errors()}`)), 20_000);
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { port: number }).port);
      } catch {
        reject(new Error(`mock upstream printed ${line}`));
      }
    });
    child.once("exit", (code) => reject(new Error(`mock upstream exited with ${code}: ${errors()}`)));
  });
  return { child, port };
}

/** The part of the proxy's /health answer the benchmark reads. */
export interface Health {
  status: string;
  recorder: { queued: number; written: number; failed_writes: number };
  in_flight: number;
}

async function getHealth(port: number): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
  return (await res.json()) as Health;
}

/** A running proxy. */
export interface Proxy {
  child: ChildProcess;
  port: number;
  dbPath: string;
  /** The tail of its stderr. */
  errors: () => string;
}

/**
/** How a proxy is started, for tools other than the benchmark itself (bench/proxy/instructions.ts). */
export interface ProxyRunOptions {
  /** A command the proxy runs under, e.g. valgrind and its flags (default: none). */
  wrap?: string[];
  /** How long it may take to answer /health, in ms (default 20 000). */
  startTimeoutMs?: number;
}

/**
 * Writes a config for `scenario` under `tmp`, starts a fresh proxy in
 * front of the mock (on core 0 when pinned, under --cpu-prof when asked;
 * the floor proxy or llm-relay, as the scenario says)
 * and waits until it answers /health.
 */
export async function startProxy(
  scenario: Scenario,
  options: Options,
  mockPort: number,
  tmp: string,
  pinned: boolean,
  run: ProxyRunOptions = {},
): Promise<Proxy> {
  const dir = path.join(tmp, scenario.name);
  mkdirSync(dir, { recursive: true });
  const configPath = path.join(dir, "llm-relay.yaml");
  const dbPath = path.join(dir, "logs.db");
  writeFileSync(
    configPath,
    [
      "host: 127.0.0.1",
      "log_level: silent",
      `record: ${scenario.record}`,
      "shutdown_grace_ms: 5000",
      "models:",
      "  mock:",
      "    provider: openai-compatible",
      `    base_url: http://127.0.0.1:${mockPort}/v1`,
      "",
    ].join("\n"),
  );
  const port = await freePort();
  // No --cpu-prof-name: with a fixed name every thread writes the same file and the record worker's
  // profile is lost. Node's default name (CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile) is one
  // file per thread, and a directory per scenario tells the scenarios apart.
  const prof = options.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir(options.cpuProfDir, scenario)] : [];
  const child = spawnCmd(
    [
      ...pinPrefix(pinned, 0),
      ...(run.wrap ?? []),
      process.execPath,
      ...prof,
      "--import",
      WATCH_PARENT,
      ...proxyEntry(scenario),
      "serve",
      "--config",
      configPath,
      "--port",
      String(port),
      "--db",
      dbPath,
    ],
    "quiet",
  );
  const errors = stderrTail(child);
  const startTimeoutMs = run.startTimeoutMs ?? 20_000;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`proxy exited with ${child.exitCode}: ${errors()}`);
    try {
      const health = await getHealth(port);
      if (health.status) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`proxy did not answer /health in ${startTimeoutMs / 1000} s: ${errors()}`);
    await sleep(50);
  }
  return { child, port, dbPath, errors };
}

/** The script (and loader) that runs as the proxy: the built llm-relay, or the floor proxy through tsx. */
function proxyEntry(scenario: Scenario): string[] {
  if (scenario.proxyKind === "floor") return ["--import", "tsx", FLOOR_TS];
  if (scenario.proxyKind === "fastify-floor") return ["--import", "tsx", FASTIFY_FLOOR_TS];
  return [PROXY_MAIN];
}

/** Where `--cpu-prof` writes the profiles of one scenario's proxy (every thread): `<dir>/<scenario name>`. */
export function profileDir(cpuProfDir: string, scenario: Scenario): string {
  return path.join(cpuProfDir, scenario.name);
}

/** Stops a proxy gracefully (SIGKILL after 30 s) and resolves with its exit code. */
export async function stopProxy(proxy: Proxy): Promise<number | null> {
  // SIGINT: the graceful stop, which also lets --cpu-prof write its profile.
  proxy.child.kill("SIGINT");
  return waitExit(proxy.child, 30_000);
}

/** Waits until the proxy has nothing in flight and its record queue is written out (written stable twice). */
export async function waitRecorderIdle(port: number, timeoutMs: number): Promise<Health | null> {
  const deadline = Date.now() + timeoutMs;
  let previous = -1;
  let stable = 0;
  let last: Health | null = null;
  while (Date.now() < deadline) {
    try {
      last = await getHealth(port);
      if (last.recorder.queued === 0 && last.in_flight === 0 && last.recorder.written === previous) {
        stable += 1;
        if (stable >= 2) return last;
      } else stable = 0;
      previous = last.recorder.written;
    } catch {
      stable = 0;
    }
    await sleep(100);
  }
  return last;
}

/** Peak resident set (VmHWM) of a process, in MB; null when unreadable. */
export function peakRssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Runs one load generator process (on core 1 when pinned) against `url` and returns what it printed. */
export async function runLoad(url: string, scenario: Scenario, options: Options, pinned: boolean): Promise<LoadResult> {
  const args = [
    ...pinPrefix(pinned, 1),
    process.execPath,
    "--import",
    "tsx",
    "--import",
    WATCH_PARENT,
    LOADGEN_TS,
    "--url",
    url,
    "--concurrency",
    String(scenario.concurrency),
    "--duration",
    String(options.durationS),
    "--warmup",
    String(options.warmupS),
    "--body",
    options.body,
    ...(scenario.stream ? ["--stream"] : []),
  ];
  const child = spawnCmd(args, "pipe-out");
  const errors = stderrTail(child);
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString("utf8")));
  const code = await waitExit(child, (options.durationS + options.warmupS + 45) * 1000);
  const line = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !line) throw new Error(`loadgen failed (exit ${code}): ${errors()}`);
  return JSON.parse(line) as LoadResult;
}
