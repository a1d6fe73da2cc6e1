/**
 * The proxy benchmark's flags: parsing, validation, `--help`, and the
 * scenarios they select.
 */
import path from "node:path";
import { parseArgs } from "node:util";

/** The validated flags of one benchmark run. */
export interface Options {
  durationS: number;
  warmupS: number;
  /**
   * Seconds of unmeasured load sent to each freshly started proxy before its
   * first pair, so that its measured runs see a warmed JIT as the long-running
   * mock does (0: none).
   */
  proxyWarmupS: number;
  repeats: number;
  concurrency: number[];
  scenarioFilter: string[] | "all";
  chunks: number;
  chunkDelayMs: number;
  body: "small" | "aider";
  cpuProfDir: string | null;
  pin: boolean;
  keepTmp: boolean;
  /** Before each run, wait up to this long for other processes on the machine to go quiet, s. */
  quietWaitS: number;
  /** What runs in the proxy's place: llm-relay, or the floor (floor-proxy.ts, recording-off scenarios only). */
  proxy: "relay" | "floor";
}

const HELP = `npm run bench:proxy -- [flags]
  --duration S        measured seconds per run (default 5, max 30)
  --warmup S          unmeasured warm-up seconds per run (default 1)
  --proxy-warmup S    unmeasured load sent to each fresh proxy before its first pair, so its JIT is
                      warm like the long-running mock's (default 5; 0: none; max 30)
  --repeats N         direct/proxied pairs per scenario (default 3)
  --scenarios LIST    comma list of names, e.g. nonstream-c1-rec,stream-c50-norec, or all (default)
  --concurrency LIST  default 1,50,200
  --chunks N          streamed content chunks per answer (default 20)
  --chunk-delay-ms N  delay between streamed chunks in the mock (default 0)
  --body small|aider  request body (default small)
  --cpu-prof DIR      run the proxy under node --cpu-prof, profiles written to DIR
  --no-pin            do not use taskset even when available
  --keep-tmp          keep the temporary configs and databases
  --quiet-wait S      before each run wait up to S s until other processes use < 15% of a core (default 20; 0: off)
  --proxy relay|floor what runs as the proxy: llm-relay (default), or floor-proxy.ts, the thinnest
                      Node proxy (node:http + undici, no work of its own), recording-off scenarios only`;

function parseList(value: string, what: string): number[] {
  const list = value.split(",").map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`bad ${what}: ${value}`);
  return list;
}

/**
 * Parses and validates the benchmark's flags. Prints the help and exits
 * with 0 on `--help`; throws on an invalid value.
 */
export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "1" },
      "proxy-warmup": { type: "string", default: "5" },
      repeats: { type: "string", default: "3" },
      scenarios: { type: "string", default: "all" },
      concurrency: { type: "string", default: "1,50,200" },
      chunks: { type: "string", default: "20" },
      "chunk-delay-ms": { type: "string", default: "0" },
      body: { type: "string", default: "small" },
      "cpu-prof": { type: "string" },
      "no-pin": { type: "boolean", default: false },
      "keep-tmp": { type: "boolean", default: false },
      "quiet-wait": { type: "string", default: "20" },
      proxy: { type: "string", default: "relay" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const durationS = Number(values.duration);
  if (!(durationS > 0 && durationS <= 30)) throw new Error("--duration must be > 0 and ≤ 30 seconds");
  const warmupS = Number(values.warmup);
  if (!(warmupS >= 0 && warmupS <= 10)) throw new Error("--warmup must be between 0 and 10 seconds");
  const proxyWarmupS = Number(values["proxy-warmup"]);
  if (!(proxyWarmupS >= 0 && proxyWarmupS <= 30))
    throw new Error("--proxy-warmup must be between 0 and 30 seconds (one load generator run)");
  const repeats = Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 20)
    throw new Error("--repeats must be an integer from 1 to 20");
  const chunks = Number(values.chunks);
  if (!Number.isInteger(chunks) || chunks < 1 || chunks > 10_000)
    throw new Error("--chunks must be an integer from 1 to 10000");
  const chunkDelayMs = Number(values["chunk-delay-ms"]);
  if (!(chunkDelayMs >= 0 && chunkDelayMs <= 1000)) throw new Error("--chunk-delay-ms must be between 0 and 1000");
  if (values.body !== "small" && values.body !== "aider") throw new Error("--body must be small or aider");
  const quietWaitS = Number(values["quiet-wait"]);
  if (!(quietWaitS >= 0 && quietWaitS <= 120)) throw new Error("--quiet-wait must be between 0 and 120 seconds");
  if (values.proxy !== "relay" && values.proxy !== "floor") throw new Error("--proxy must be relay or floor");
  const scenarioFilter =
    values.scenarios === "all"
      ? "all"
      : values.scenarios
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
  return {
    durationS,
    warmupS,
    proxyWarmupS,
    repeats,
    concurrency: parseList(values.concurrency, "--concurrency"),
    scenarioFilter,
    chunks,
    chunkDelayMs,
    body: values.body,
    cpuProfDir: values["cpu-prof"] ? path.resolve(values["cpu-prof"]) : null,
    pin: !values["no-pin"],
    keepTmp: values["keep-tmp"],
    quietWaitS,
    proxy: values.proxy,
  };
}

/** One benchmark scenario: non-stream | stream × concurrency × recording on | off. */
export interface Scenario {
  name: string;
  stream: boolean;
  concurrency: number;
  record: boolean;
}

function scenarioName(stream: boolean, concurrency: number, record: boolean): string {
  return `${stream ? "stream" : "nonstream"}-c${concurrency}-${record ? "rec" : "norec"}`;
}

/**
 * The scenarios selected by `--scenarios` and `--concurrency`, in run
 * order (non-stream first, then by concurrency, recording on before off).
 * Throws on a malformed scenario name.
 */
export function buildScenarios(options: Options): Scenario[] {
  const concurrencies = new Set(options.concurrency);
  if (options.scenarioFilter !== "all") {
    for (const name of options.scenarioFilter) {
      const m = /^(nonstream|stream)-c(\d+)-(rec|norec)$/.exec(name);
      if (!m) throw new Error(`bad scenario name ${name} (expected e.g. nonstream-c1-rec or stream-c50-norec)`);
      concurrencies.add(Number(m[2]));
    }
  }
  const all: Scenario[] = [];
  // The floor records nothing: only the recording-off scenarios mean anything through it.
  const recordings = options.proxy === "floor" ? [false] : [true, false];
  for (const stream of [false, true])
    for (const concurrency of [...concurrencies].sort((a, b) => a - b))
      for (const record of recordings)
        all.push({ name: scenarioName(stream, concurrency, record), stream, concurrency, record });
  if (options.scenarioFilter === "all") return all.filter((s) => options.concurrency.includes(s.concurrency));
  const wanted = options.scenarioFilter;
  return all.filter((s) => wanted.includes(s.name));
}
