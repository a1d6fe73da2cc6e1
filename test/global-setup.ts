/**
 * vitest `globalSetup`: before any test file runs, checks once that the
 * services the suite needs answer — PostgreSQL, Redis and Chromium — and
 * stops the run at once with one message naming each one missing and how to
 * start it, instead of letting a dozen files fail one by one on connection
 * errors (a Redis client alone retries for two minutes before it gives up).
 *
 * The addresses are the tests' own, with the same environment overrides:
 * `LLM_RELAY_TEST_DATABASE_URL` (test/helpers/pg.ts), `LLM_RELAY_TEST_REDIS_URL`
 * (test/ratelimit/harness.ts and the server tests), `CHROMIUM_PATH`
 * (test/bench-replay/bench-run.test.ts). `.ci/run` starts or installs all three.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import postgres from "postgres";
import { TEST_DATABASE_URL } from "./helpers/pg.js";

/** Redis the rate-limit and two-instance tests use. */
const TEST_REDIS_URL = process.env.LLM_RELAY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** The Chromium the HTML report test drives (playwright-core, no browser download). */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** How long each service may take to answer, in seconds. */
const ANSWER_WITHIN_S = 3;

/** One service that did not answer: what was tried, what went wrong, how to get it. */
interface Missing {
  service: string;
  error: string;
  remedy: string;
}

/** @returns null when `select 1` answers on {@link TEST_DATABASE_URL} */
async function checkPostgres(): Promise<Missing | null> {
  const sql = postgres(TEST_DATABASE_URL, { max: 1, connect_timeout: ANSWER_WITHIN_S, onnotice: () => undefined });
  try {
    await sql`select 1`;
    return null;
  } catch (error) {
    return {
      service: `PostgreSQL at ${redactPassword(TEST_DATABASE_URL)}`,
      error: reasonOf(error),
      remedy:
        "start it (Debian: `pg_ctlcluster <version> main start`; trust auth for 127.0.0.1) and create the database " +
        "(`createdb -h 127.0.0.1 -U postgres test`), or point LLM_RELAY_TEST_DATABASE_URL at another server",
    };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** @returns null when `PING` answers `PONG` on {@link TEST_REDIS_URL} */
async function checkRedis(): Promise<Missing | null> {
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: ANSWER_WITHIN_S * 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // The socket's error (ECONNREFUSED …) is the useful one; connect() itself only says "Connection is closed".
  let socketError: unknown = null;
  redis.on("error", (error: unknown) => {
    socketError ??= error;
  });
  try {
    await redis.connect();
    const pong: string = await redis.ping();
    if (pong !== "PONG") throw new Error(`PING answered ${pong}`);
    return null;
  } catch (error) {
    return {
      service: `Redis at ${redactPassword(TEST_REDIS_URL)}`,
      error: reasonOf(socketError ?? error),
      remedy:
        "start it (`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''`), or point LLM_RELAY_TEST_REDIS_URL at another server",
    };
  } finally {
    redis.disconnect();
  }
}

/** @returns null when {@link CHROMIUM_PATH} is an executable file */
function checkChromium(): Missing | null {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
    if (!fs.statSync(CHROMIUM_PATH).isFile()) throw new Error("not a file");
    return null;
  } catch (error) {
    return {
      service: `Chromium at ${CHROMIUM_PATH}`,
      error: reasonOf(error),
      remedy: "install Debian's `chromium` (`apt-get install chromium`), or set CHROMIUM_PATH to a Chromium executable",
    };
  }
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message || error.name : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * Runs once before the suite.
 * @throws Error listing every service that did not answer and how to start it (vitest then runs no test file)
 */
export default async function checkServices(): Promise<void> {
  // The page tests serve the conversation browser's bundle from dist/ui: built from ui/ as it is now.
  execFileSync(process.execPath, [fileURLToPath(new URL("../ui/build.mjs", import.meta.url))], { stdio: "inherit" });
  const missing = (await Promise.all([checkPostgres(), checkRedis(), Promise.resolve(checkChromium())])).filter(
    (m): m is Missing => m !== null,
  );
  if (missing.length === 0) return;
  const lines = [
    `The tests need ${missing.length === 1 ? "a service that is" : "services that are"} not available, so none were run:`,
    ...missing.map((m) => `  - ${m.service}: ${m.error}\n    ${m.remedy}`),
    "`.ci/run` starts PostgreSQL and Redis and installs Chromium on a Debian machine.",
  ];
  const error = new Error(lines.join("\n"));
  error.stack = error.message; // the message is the whole story: no stack trace under it
  throw error;
}
