/**
 * The progress display: cli-progress bars (one per candidate, with done/total,
 * errors, elapsed and ETA) on a terminal; plain lines on anything else.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { barProgress, formatDuration, lineProgress, progressFor } from "../../src/bench/progress.js";

/** A stream that says it is a terminal, collecting what is written. */
function fakeTerminal(): PassThrough & { isTTY: boolean; columns: number; text(): string } {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; text(): string };
  let out = "";
  stream.on("data", (piece: Buffer) => (out += piece.toString("utf8")));
  stream.isTTY = true;
  stream.columns = 160;
  stream.text = () => out;
  return stream;
}

describe("progress", () => {
  it("draws a bar per candidate on a terminal", () => {
    const terminal = fakeTerminal();
    const progress = barProgress(terminal);
    progress.start({ candidate: "fast", done: 0, errors: 0, total: 4 });
    progress.start({ candidate: "a-slower-one", done: 1, errors: 0, total: 4 });
    progress.update({ candidate: "fast", done: 4, errors: 1, total: 4 });
    progress.update({ candidate: "a-slower-one", done: 2, errors: 0, total: 4 });
    progress.stop();
    const text = terminal.text();
    expect(text).toMatch(/fast {9}\|[█░]+\| 4\/4 cases \| errors 1 \| elapsed \d+s \| ETA 0s/);
    expect(text).toMatch(/a-slower-one \|[█░]+\| 2\/4 cases \| errors 0 \| elapsed \d+s \| ETA/);
  });

  it("writes plain lines elsewhere, and picks by isTTY", () => {
    const pipe = new PassThrough();
    let out = "";
    pipe.on("data", (piece: Buffer) => (out += piece.toString("utf8")));
    const progress = lineProgress(pipe);
    progress.start({ candidate: "fast", done: 1, errors: 0, total: 3 });
    progress.update({ candidate: "fast", done: 2, errors: 1, total: 3 });
    progress.update({ candidate: "fast", done: 3, errors: 1, total: 3 });
    progress.stop();
    const lines = out.trim().split("\n");
    expect(lines[0]).toMatch(/^bench: fast 1\/3 cases, 0 errors, \d+\.\d s elapsed, ETA \? \(resumed\)$/);
    expect(lines[1]).toMatch(/^bench: fast 2\/3 cases, 1 error, \d+\.\d s elapsed, ETA \d+\.\d s$/);
    expect(lines[2]).toMatch(/^bench: fast 3\/3 cases, 1 error, \d+\.\d s elapsed, ETA 0\.0 s$/);
    const terminal = fakeTerminal();
    const chosen = progressFor(terminal);
    chosen.start({ candidate: "x", done: 0, errors: 0, total: 1 });
    chosen.stop();
    expect(terminal.text()).toMatch(/x \|[█░]+\| 0\/1 cases/);
    const plain = new PassThrough();
    let plainOut = "";
    plain.on("data", (piece: Buffer) => (plainOut += piece.toString("utf8")));
    progressFor(plain).start({ candidate: "x", done: 0, errors: 0, total: 1 });
    expect(plainOut).toMatch(/^bench: x 0\/1 cases/);
    expect(formatDuration(4.25)).toBe("4.3 s");
    expect(formatDuration(185)).toBe("3m 05s");
    expect(formatDuration(3720)).toBe("1h 02m");
  });
});
