/**
 * `npm run bench:instructions [-- flags]`: instructions per proxied request,
 * counted by valgrind's callgrind — a count, not a time, so it repeats
 * within a fraction of a percent whatever else the machine does, and an A/B
 * of two checkouts can resolve changes of a few percent that the timed
 * benchmark (`bench:proxy`, ±10 % between runs on a shared VM) cannot.
 *
 * For each scenario: the mock upstream (mock-upstream.ts) and the proxy
 * (llm-relay's build, or the floor) under `valgrind --tool=callgrind
 * --instr-atstart=no --separate-threads=yes`; `--warm` requests unmeasured
 * (JIT warm), then counting on (`callgrind_control -i on`), `--requests`
 * requests at the scenario's concurrency, the record queue drained (so the
 * record worker's work is in), a dump, and the totals of every thread.
 * Prints instructions per request: all threads, the main thread (the
 * request path), the record worker (the thread that ran SQLite), and V8's
 * helper threads (concurrent GC and compilation: valgrind's slowness makes
 * V8 do far more of that work than a real run, so compare the first three).
 * The kernel is not counted (a syscall is one instruction here, whatever it costs).
 *
 *   npm run bench:instructions -- [--scenarios nonstream-c10-norec,…] [--requests 2000] [--warm 2000]
 *
 * Scenario names as bench:proxy's (`<nonstream|stream>-c<N>-<floor|rec|norec>`), and `…-fastify`: the floor
 * through Fastify (fastify-floor.ts), what the framework alone adds. Needs valgrind.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { smallBody } from "./bodies.js";
import type { Options, Scenario } from "./cli-options.js";
import { installSignalHandlers, startMock, startProxy, waitExit, waitRecorderIdle } from "./processes.js";

const { values } = parseArgs({
  options: {
    scenarios: { type: "string", default: "nonstream-c10-norec,nonstream-c10-rec,stream-c10-norec,stream-c10-rec" },
    requests: { type: "string", default: "2000" },
    warm: { type: "string", default: "2000" },
  },
});
const requests = Number(values.requests);
const warm = Number(values.warm);
if (!Number.isInteger(requests) || requests < 100 || requests > 100_000) throw new Error("--requests: 100 to 100000");
if (!Number.isInteger(warm) || warm < 0 || warm > 100_000) throw new Error("--warm: 0 to 100000");

/** A scenario of the name `<nonstream|stream>-c<N>-<floor|fastify|rec|norec>`. */
function scenarioOf(name: string): Scenario {
  const m = /^(nonstream|stream)-c(\d+)-(floor|fastify|rec|norec)$/.exec(name);
  if (!m) throw new Error(`bad scenario ${name}: <nonstream|stream>-c<N>-<floor|fastify|rec|norec>`);
  return {
    name,
    stream: m[1] === "stream",
    concurrency: Number(m[2]),
    proxyKind: m[3] === "floor" ? "floor" : m[3] === "fastify" ? "fastify-floor" : "relay",
    record: m[3] === "rec",
  };
}

/** The benchmark's options as the processes module reads them (the mock's stream shape: 20 chunks, no delay). */
const OPTIONS = { chunks: 20, chunkDelayMs: 0, cpuProfDir: null } as Options;

/** Sends `count` requests at `concurrency` and reads every answer whole. @throws on a status other than 200 */
async function send(port: number, scenario: Scenario, count: number): Promise<void> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: scenario.concurrency, pipelining: 1 });
  const body = smallBody(scenario.stream);
  let left = count;
  try {
    await Promise.all(
      Array.from({ length: scenario.concurrency }, async () => {
        while (left-- > 0) {
          const res = await pool.request({
            path: "/v1/chat/completions",
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
          const text = await res.body.text();
          if (res.statusCode !== 200) throw new Error(`${res.statusCode}: ${text.slice(0, 200)}`);
        }
      }),
    );
  } finally {
    await pool.close();
  }
}

/** One thread's count in a callgrind dump. */
interface ThreadCount {
  /** callgrind's thread number (1: the main thread). */
  thread: number;
  instructions: number;
  /** It ran SQLite's VDBE: the record worker (or, with recording off, the main thread's ledger writes). */
  sqlite: boolean;
}

/** Total instructions (`Ir`) of each thread's dump in `dir` for process `pid`. */
function threadCounts(dir: string, pid: number): ThreadCount[] {
  const counts: ThreadCount[] = [];
  for (const file of readdirSync(dir)) {
    const m = new RegExp(`^callgrind\\.out\\.${pid}(?:\\.\\d+)?-(\\d+)$`).exec(file);
    if (!m) continue;
    const text = readFileSync(path.join(dir, file), "utf8");
    // The header's `summary:` may be 0 in a dump requested while running; the `totals:` line at the end is the count.
    const total = /^totals:\s+(\d+)/m.exec(text) ?? /^summary:\s+(\d+)/m.exec(text);
    counts.push({
      thread: Number(m[1]),
      instructions: Number(total?.[1] ?? 0),
      sqlite: text.includes("sqlite3VdbeExec"),
    });
  }
  return counts;
}

/** `n` instructions per request, e.g. `1,013,201`. */
function perRequest(n: number): string {
  return Math.round(n / requests)
    .toLocaleString("en")
    .padStart(12);
}

installSignalHandlers();
const tmp = mkdtempSync(path.join(tmpdir(), "llm-relay-instructions-"));
const mock = await startMock(OPTIONS, false);
try {
  process.stdout.write(
    `instructions per request (callgrind; ${warm} requests to warm up, ${requests} counted, record queue drained)\n`,
  );
  process.stdout.write(
    `${"scenario".padEnd(24)}  ${"all threads".padStart(12)}  ${"main thread".padStart(12)}  ${"record worker".padStart(12)}  ${"V8 helpers".padStart(12)}\n`,
  );
  for (const name of values.scenarios.split(",").map((s) => s.trim())) {
    const scenario = scenarioOf(name);
    const outDir = path.join(tmp, `${name}-callgrind`);
    execFileSync("mkdir", ["-p", outDir]);
    const proxy = await startProxy(scenario, OPTIONS, mock.port, tmp, false, {
      wrap: [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--separate-threads=yes",
        `--callgrind-out-file=${outDir}/callgrind.out.%p`,
      ],
      startTimeoutMs: 300_000,
    });
    const pid = proxy.child.pid!;
    try {
      await send(proxy.port, scenario, warm);
      await waitRecorderIdle(proxy.port, 120_000);
      execFileSync("callgrind_control", ["--zero", String(pid)], { stdio: "ignore" });
      execFileSync("callgrind_control", ["-i", "on", String(pid)], { stdio: "ignore" });
      await send(proxy.port, scenario, requests);
      await waitRecorderIdle(proxy.port, 300_000);
      execFileSync("callgrind_control", ["-i", "off", String(pid)], { stdio: "ignore" });
      execFileSync("callgrind_control", ["--dump", String(pid)], { stdio: "ignore" });
    } finally {
      proxy.child.kill("SIGKILL");
      await waitExit(proxy.child, 30_000);
    }
    const counts = threadCounts(outDir, pid);
    const sum = (list: ThreadCount[]) => list.reduce((n, c) => n + c.instructions, 0);
    const main = counts.filter((c) => c.thread === 1);
    const worker = counts.filter((c) => c.thread !== 1 && c.sqlite);
    const helpers = counts.filter((c) => c.thread !== 1 && !c.sqlite);
    process.stdout.write(
      `${name.padEnd(24)}  ${perRequest(sum(counts))}  ${perRequest(sum(main))}  ${perRequest(sum(worker))}  ${perRequest(sum(helpers))}\n`,
    );
  }
} finally {
  mock.child.kill("SIGTERM");
  if (process.env.KEEP_TMP) process.stderr.write(`kept ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });
}
process.exit(0);
