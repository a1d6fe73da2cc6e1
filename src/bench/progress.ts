/**
 * Progress of a running bench: a live cli-progress bar per candidate
 * (cases done/total, errors, elapsed, ETA) when the output is a terminal,
 * one plain line per finished case otherwise (logs, CI, pipes).
 */
import cliProgress from "cli-progress";
import { performance } from "node:perf_hooks";
import type { CandidateProgress, ProgressSink } from "./runner.js";

/** Seconds as `4.2 s`, `3m 05s`, `1h 02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Live bars (cli-progress MultiBar) on `stream`, one per candidate. */
export function barProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }): ProgressSink {
  const multi = new cliProgress.MultiBar(
    {
      format:
        "{candidate} |{bar}| {value}/{total} cases | errors {errors} | elapsed {duration_formatted} | ETA {eta_formatted}",
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 20,
      fps: 10,
      stream,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  let width = 0;
  return {
    start(progress) {
      width = Math.max(width, progress.candidate.length);
      bars.set(
        progress.candidate,
        multi.create(progress.total, progress.done, { candidate: progress.candidate, errors: progress.errors }),
      );
      for (const [candidate, bar] of bars) bar.update({ candidate: candidate.padEnd(width) });
    },
    update(progress) {
      bars
        .get(progress.candidate)
        ?.update(progress.done, { candidate: progress.candidate.padEnd(width), errors: progress.errors });
    },
    stop() {
      multi.stop();
    },
  };
}

/** One line per finished case on `stream`: `bench: gpt-x 3/10 cases, 1 error, 2.1 s elapsed, ETA 4.9 s`. */
export function lineProgress(stream: NodeJS.WritableStream): ProgressSink {
  const started = new Map<string, { at: number; done: number }>();
  const line = (p: CandidateProgress, label: string) => {
    const start = started.get(p.candidate)!;
    const elapsed = (performance.now() - start.at) / 1000;
    const finished = p.done - start.done;
    const eta = finished > 0 ? (elapsed / finished) * (p.total - p.done) : Number.NaN;
    stream.write(
      `bench: ${p.candidate} ${p.done}/${p.total} cases, ${p.errors} error${p.errors === 1 ? "" : "s"}, ${formatDuration(elapsed)} elapsed, ETA ${p.done >= p.total ? "0.0 s" : formatDuration(eta)}${label}\n`,
    );
  };
  return {
    start(progress) {
      started.set(progress.candidate, { at: performance.now(), done: progress.done });
      line(progress, progress.done > 0 ? " (resumed)" : "");
    },
    update(progress) {
      line(progress, "");
    },
    stop() {},
  };
}

/** The progress display for `stream`: bars on a terminal, lines otherwise. */
export function progressFor(stream: NodeJS.WritableStream & { isTTY?: boolean }): ProgressSink {
  return stream.isTTY ? barProgress(stream) : lineProgress(stream);
}
