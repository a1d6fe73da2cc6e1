/**
 * The Bench page's routes: `GET /ui/api/bench/runs` → `BenchRunView[]` (newest first) and
 * `GET /ui/bench/<runId>/report` → the run's HTML report, the same page `llm-relay bench report --html`
 * writes (`bench/report/html.ts`). Bench runs live in the SQLite logs.db (`bench_runs`, `bench_results`);
 * on PostgreSQL, or on a file no bench ever ran on, the list is empty.
 *
 * The report carries its own scripts inline (Chart.js and its page code) and inline styles, so it gets
 * its own Content-Security-Policy: those scripts by their SHA-256 (CSP Level 3, https://www.w3.org/TR/CSP3/#grammardef-hash-source),
 * inline styles, `data:` images, nothing fetched.
 *
 * The bench's modules (its store, the report renderer with Chart.js) are imported when a bench route is
 * first asked, so a proxy nobody browses the bench of does not carry them.
 */
import { createHash } from "node:crypto";
import Database from "better-sqlite3";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { BenchStore } from "../../bench/storage/bench-store.js";
import { errors } from "../../protocol/error-codes.js";
import { envelope } from "../envelope.js";
import type { BenchRunView } from "./api-types.js";
import type { UiContext } from "./ui-context.js";

/** Whether the logs.db at `path` has bench tables (read-only look; false when the file is missing). */
export function hasBenchTables(path: string): boolean {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch {
    return false;
  }
  try {
    return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bench_runs'`).get() !== undefined;
  } finally {
    db.close();
  }
}

/** Runs `use` on the bench store of `path`, or answers `empty` when the file has no bench tables. */
async function withBenchStore<T>(path: string | null, empty: T, use: (store: BenchStore) => T): Promise<T> {
  if (path === null || !hasBenchTables(path)) return empty;
  const { BenchStore } = await import("../../bench/storage/bench-store.js");
  const store = BenchStore.open(path);
  try {
    return use(store);
  } finally {
    store.close();
  }
}

/** The bench runs of the logs.db at `path` (null: none), newest first. */
export function benchRunViews(path: string | null): Promise<BenchRunView[]> {
  return withBenchStore(path, [], (store) =>
    store.listRuns().map((run) => ({
      id: run.id,
      created: run.createdUtc,
      finished: store.getRun(run.id)?.finishedUtc ?? null,
      status: run.status,
      candidates: run.candidates,
      cases: run.cases,
      results: run.results,
      errors: run.errors,
    })),
  );
}

/** The CSP of a bench report page: its inline scripts by hash, inline styles, nothing loaded from anywhere. */
export function reportCsp(html: string): string {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash("sha256").update(m[1]!).digest("base64")}'`,
  );
  return [
    "default-src 'none'",
    `script-src ${hashes.join(" ") || "'none'"}`,
    "style-src 'unsafe-inline'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The HTML report of run `runId` in the logs.db at `path`, or null when there is no such run. */
async function reportHtml(path: string | null, runId: string): Promise<string | null> {
  const [{ runReport }, { renderHtmlReport }] = await Promise.all([
    import("../../bench/session.js"),
    import("../../bench/report/html.js"),
  ]);
  return withBenchStore(path, null, (store) => {
    const report = runReport(store, runId);
    return report ? renderHtmlReport(report) : null;
  });
}

const runParam = z.strictObject({ runId: z.string().regex(/^[0-9a-zA-Z]{26}$/) });

/** Registers the routes. */
export function registerUiBench(app: FastifyInstance, ui: UiContext): void {
  app.get("/ui/api/bench/runs", async () => {
    const runs = await benchRunViews(ui.benchDbPath);
    return envelope({ data: runs, message: `${runs.length} bench run${runs.length === 1 ? "" : "s"}` });
  });

  app.get("/ui/bench/:runId/report", async (request, reply) => {
    const parsed = runParam.safeParse(request.params);
    const runId = parsed.success ? parsed.data.runId : null;
    const html = runId === null ? null : await reportHtml(ui.benchDbPath, runId);
    if (html === null)
      throw errors.notFound(`No bench run '${String((request.params as { runId?: unknown }).runId)}'.`);
    return reply
      .header("content-security-policy", reportCsp(html))
      .header("cache-control", "no-store")
      .type("text/html; charset=utf-8")
      .send(html);
  });
}
