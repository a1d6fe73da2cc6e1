/**
 * Runs the real `llm-relay` command line in a child process, for
 * process-level tests: `node --import tsx src/cli/main.ts …` (one process,
 * so signals sent to the child reach the server itself), with its own
 * working directory and a clean environment (no API keys, no LLM_RELAY_*,
 * HOME and XDG_DATA_HOME inside the test's temp dir). Every wait is bounded.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root (where node_modules lives). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The CLI entry point, run through tsx. */
export const CLI_ENTRY = path.join(REPO_ROOT, "src", "cli", "main.ts");

/**
 * tsx's ESM entry as an absolute file URL: `--import tsx` would be
 * resolved from the child's cwd, which is a temp dir without node_modules.
 */
function tsxImportUrl(): string {
  const dir = path.join(REPO_ROOT, "node_modules", "tsx");
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as {
    exports: Record<string, unknown>;
  };
  const entry = pkg.exports["."];
  const file =
    typeof entry === "string"
      ? entry
      : ((entry as { import?: string; default?: string }).import ?? (entry as { default: string }).default);
  return pathToFileURL(path.join(dir, file)).href;
}

const TSX_IMPORT = tsxImportUrl();

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running (or finished) CLI process. */
export interface CliProcess {
  child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited (immediately if it has). */
  exited: Promise<Exit>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** The exit, or a rejection naming the output after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<Exit>;
  /** SIGKILLs the process if it is still alive and waits for it to go. */
  kill(): Promise<void>;
}

/** Options of a spawn. */
export interface SpawnOptions {
  /** Working directory of the child (config discovery, relative paths). */
  cwd: string;
  /** Variables added to the clean environment. */
  env?: Record<string, string>;
}

const live = new Set<CliProcess>();

/**
 * A clean environment for the child: PATH, HOME and XDG_DATA_HOME inside
 * `dir` (so the default logs.db never lands in the real home), nothing
 * else unless given.
 */
export function cleanEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    XDG_DATA_HOME: path.join(dir, "xdg-data"),
    TMPDIR: process.env.TMPDIR ?? "/tmp",
    ...extra,
  };
}

/** Spawns `llm-relay <args…>`. */
export function spawnCli(args: readonly string[], options: SpawnOptions): CliProcess {
  const child = spawn(process.execPath, ["--import", TSX_IMPORT, CLI_ENTRY, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.cwd, options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (piece: string) => (out += piece));
  child.stderr.setEncoding("utf8").on("data", (piece: string) => (err += piece));
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    // "close" comes after "exit" and after stdout/stderr have ended, so the output is complete.
    child.once("close", (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once("error", () => {
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  const proc: CliProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    alive: () => !done,
    waitForExit(timeoutMs = 10_000) {
      return withTimeout(
        exited,
        timeoutMs,
        () => `llm-relay ${args.join(" ")} did not exit within ${timeoutMs} ms\n${outputOf(proc)}`,
      );
    },
    async kill() {
      live.delete(proc);
      if (done) return;
      child.kill("SIGKILL");
      await withTimeout(exited, 5_000, () => `llm-relay did not die after SIGKILL\n${outputOf(proc)}`);
    },
  };
  live.add(proc);
  return proc;
}

/** SIGKILLs every CLI process still alive (use in afterEach). */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((proc) => proc.kill()));
}

/** The stdout/stderr of a process, for failure messages. */
export function outputOf(proc: CliProcess): string {
  return `--- stdout ---\n${proc.stdout()}\n--- stderr ---\n${proc.stderr()}`;
}

/** A `serve` process that reported it is listening. */
export interface ServeProcess extends CliProcess {
  /** `http://127.0.0.1:PORT` from the "llm-relay listening" log line. */
  url: string;
}

/**
 * Spawns `llm-relay serve <args…>` and waits (at most `timeoutMs`) for the
 * "llm-relay listening" JSON line on stdout. Rejects, with the output, when
 * the process exits first or the line does not come.
 */
export async function startServe(
  args: readonly string[],
  options: SpawnOptions & { timeoutMs?: number },
): Promise<ServeProcess> {
  const proc = spawnCli(["serve", ...args], options);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = listeningUrl(proc.stdout());
        if (found) {
          proc.child.stdout!.off("data", check);
          resolve(found);
        }
      };
      proc.child.stdout!.on("data", check);
      check();
      void proc.exited.then((exit) =>
        reject(new Error(`llm-relay serve exited (${exit.code ?? exit.signal}) before listening\n${outputOf(proc)}`)),
      );
    }),
    timeoutMs,
    () => `llm-relay serve did not report listening within ${timeoutMs} ms\n${outputOf(proc)}`,
  ).catch(async (error: unknown) => {
    await proc.kill();
    throw error;
  });
  return Object.assign(proc, { url });
}

/** The URL of the first complete "llm-relay listening" line in `stdout`, if any. */
export function listeningUrl(stdout: string): string | null {
  for (const line of logLines(stdout)) {
    if (line.msg === "llm-relay listening" && typeof line.url === "string") return line.url;
  }
  return null;
}

/** The complete JSON lines of a pino stdout (other lines are skipped). */
export function logLines(stdout: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const complete = stdout.slice(0, stdout.lastIndexOf("\n") + 1);
  for (const line of complete.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  }
  return out;
}

/** The result of a command run to its end. */
export interface CliResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs `llm-relay <args…>` to its end (at most `timeoutMs`). */
export async function runCli(
  args: readonly string[],
  options: SpawnOptions & { timeoutMs?: number },
): Promise<CliResult> {
  const proc = spawnCli(args, options);
  try {
    const exit = await proc.waitForExit(options.timeoutMs ?? 15_000);
    return { ...exit, stdout: proc.stdout(), stderr: proc.stderr() };
  } finally {
    await proc.kill();
  }
}

/** `promise`, or a rejection with `message()` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
