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
  /**
   * What runs in the proxy's place: llm-relay, the floor (floor-proxy.ts), or
   * both (default: the floor's scenarios first in each group, so that the
   * targets can be stated against the floor of the same run).
   */
  proxy: "relay" | "floor" | "both";
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
  --cpu-prof DIR      run the proxy under node --cpu-prof; every thread's profile (main thread and
                      record worker) is written to DIR/<scenario>/ and summarised in the report
  --no-pin            do not use taskset even when available
  --keep-tmp          keep the temporary configs and databases
  --quiet-wait S      before each run wait up to S s until other processes use < 15% of a core (default 20; 0: off)
  --proxy both|relay|floor  what runs as the proxy: both (default: floor-proxy.ts, the thinnest Node
                      proxy — node:http + undici, no work of its own — then llm-relay, in each group, so
                      the targets are judged against the floor of the same run), relay, or floor`;

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
      proxy: { type: "string", default: "both" },
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
  if (values.proxy !== "relay" && values.proxy !== "floor" && values.proxy !== "both")
    throw new Error("--proxy must be both, relay or floor");
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

/** What a scenario runs as the proxy: the floor, or llm-relay with recording on or off. */
export type Side = "floor" | "rec" | "norec";

/** One benchmark scenario: non-stream | stream × concurrency × side (the floor, llm-relay recording on | off). */
export interface Scenario {
  name: string;
  stream: boolean;
  concurrency: number;
  /**
   * What runs as the proxy: the floor proxy (floor-proxy.ts), llm-relay, or (bench:instructions only) the floor
   * through Fastify (fastify-floor.ts).
   */
  proxyKind: "floor" | "relay" | "fastify-floor";
  /** Recording on (llm-relay only; always false for the floor, which records nothing). */
  record: boolean;
}

/** Which side a scenario measures. */
export function sideOf(scenario: Pick<Scenario, "proxyKind" | "record">): Side {
  return scenario.proxyKind !== "relay" ? "floor" : scenario.record ? "rec" : "norec";
}

/** The name of a scenario, e.g. `stream-c50-rec` or `nonstream-c1-floor`. */
export function scenarioName(scenario: Pick<Scenario, "stream" | "concurrency" | "proxyKind" | "record">): string {
  return `${scenario.stream ? "stream" : "nonstream"}-c${scenario.concurrency}-${sideOf(scenario)}`;
}

/**
 * The scenarios selected by `--scenarios`, `--concurrency` and `--proxy`,
 * in run order (non-stream first, then by concurrency; in each group the
 * floor, then llm-relay with recording on, then off). Throws on a
 * malformed scenario name.
 */
export function buildScenarios(options: Options): Scenario[] {
  const concurrencies = new Set(options.concurrency);
  if (options.scenarioFilter !== "all") {
    for (const name of options.scenarioFilter) {
      const m = /^(nonstream|stream)-c(\d+)-(rec|norec|floor)$/.exec(name);
      if (!m)
        throw new Error(
          `bad scenario name ${name} (expected e.g. nonstream-c1-rec, stream-c50-norec or stream-c50-floor)`,
        );
      concurrencies.add(Number(m[2]));
    }
  }
  const all: Scenario[] = [];
  const sides: Pick<Scenario, "proxyKind" | "record">[] = [];
  // The floor records nothing: it has one side only.
  if (options.proxy !== "relay") sides.push({ proxyKind: "floor", record: false });
  if (options.proxy !== "floor")
    sides.push({ proxyKind: "relay", record: true }, { proxyKind: "relay", record: false });
  for (const stream of [false, true])
    for (const concurrency of [...concurrencies].sort((a, b) => a - b))
      for (const side of sides) {
        const scenario = { stream, concurrency, ...side };
        all.push({ name: scenarioName(scenario), ...scenario });
      }
  if (options.scenarioFilter === "all") return all.filter((s) => options.concurrency.includes(s.concurrency));
  const wanted = options.scenarioFilter;
  return all.filter((s) => wanted.includes(s.name));
}
