/**
 * Runs a bench: every (case, candidate, repeat) task without a stored
 * result, `concurrency` at a time per candidate (candidates run side by
 * side), through one library client. Each finished task is scored,
 * optionally judged, and stored at once, so an interrupted run keeps what
 * it finished and `--resume` does only the rest. Aborting the signal stops
 * scheduling and cancels the calls in flight (their results are not kept).
 */
import type { LLMClient } from "../library/types.js";
import { llmDatetime } from "../recording/llm-format.js";
import { replayCase } from "./candidate-call.js";
import { judgeAnswer } from "./scores/judge.js";
import { tokensPerSecond } from "./throughput.js";
import { scoreAnswer } from "./scores/index.js";
import { newBenchConversation, type BenchConversation } from "./storage/rehome.js";
import { taskKey, type BenchStore } from "./storage/bench-store.js";
import type { BenchCase, BenchResult, BenchRun } from "./types.js";

/** Progress of one candidate. */
export interface CandidateProgress {
  candidate: string;
  /** Tasks of the candidate with a stored result (earlier sessions included). */
  done: number;
  /** Of those, failed calls. */
  errors: number;
  /** Every task of the candidate. */
  total: number;
}

/** Where the runner reports progress (a terminal bar, plain lines, or nothing). */
export interface ProgressSink {
  /** Before the first call, once per candidate. */
  start(progress: CandidateProgress): void;
  /** After each stored result. */
  update(progress: CandidateProgress): void;
  /** Once, when the run ends or is interrupted. */
  stop(): void;
}

/** What {@link runBench} needs. */
export interface RunnerInput {
  client: LLMClient;
  store: BenchStore;
  run: BenchRun;
  /** The run's cases (in `run.caseIds` order; missing ones are left out of the run). */
  cases: readonly BenchCase[];
  /** Aborting it interrupts the run. */
  signal?: AbortSignal;
  progress?: ProgressSink;
  /** Concurrent calls per candidate; default `run.settings.concurrency`. */
  concurrency?: number;
}

/** How a session of a run ended. */
export interface RunnerOutcome {
  /** True when the signal stopped it before every task was done. */
  interrupted: boolean;
  /** Results stored in this session. */
  completed: number;
  /** Tasks still without a result. */
  remaining: number;
}

interface Task {
  benchCase: BenchCase;
  repeat: number;
}

/**
 * Runs the missing tasks of `input.run` and marks the run `done` or
 * `interrupted`.
 * @throws on a database failure (the run stays `running`/`interrupted` and can be resumed)
 */
export async function runBench(input: RunnerInput): Promise<RunnerOutcome> {
  const { store, run } = input;
  const signal = input.signal ?? new AbortController().signal;
  const concurrency = Math.max(1, input.concurrency ?? run.settings.concurrency);
  const done = store.doneKeys(run.id);
  const existing = store.results(run.id);
  const conversations = new Map<string, BenchConversation>();
  let completed = 0;
  let remaining = 0;
  store.setStatus(run.id, "running");

  const conversationOf = (label: string, model: string): BenchConversation => {
    let conversation = conversations.get(label);
    if (!conversation) {
      const known = run.conversations[label];
      conversation = known
        ? { ...newBenchConversation(run.id, label, model), id: known }
        : newBenchConversation(run.id, label, model);
      if (!known) store.setConversation(run.id, label, conversation.id);
      conversations.set(label, conversation);
    }
    return conversation;
  };

  const perCandidate = run.candidates.map((candidate) => {
    const tasks: Task[] = [];
    for (const benchCase of input.cases) {
      for (let repeat = 0; repeat < run.settings.repeat; repeat++) {
        if (!done.has(taskKey(benchCase.id, candidate, repeat))) tasks.push({ benchCase, repeat });
      }
    }
    const mine = existing.filter((r) => r.candidate === candidate);
    const progress: CandidateProgress = {
      candidate,
      done: mine.length,
      errors: mine.filter((r) => r.error !== null).length,
      total: input.cases.length * run.settings.repeat,
    };
    remaining += tasks.length;
    return { candidate, tasks, progress };
  });
  // The client's set-up (config, providers, the record worker and its logs.db) is not any candidate's latency.
  if (remaining > 0) await input.client.ready();
  for (const entry of perCandidate) input.progress?.start({ ...entry.progress });

  let failure: Error | undefined;
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) stop.abort(signal.reason);

  const runTask = async (candidate: string, task: Task): Promise<BenchResult | null> => {
    const outcome = await replayCase(input.client, task.benchCase, candidate, run.settings, stop.signal);
    const conversation = conversationOf(candidate, candidate);
    if (outcome.responseId) store.rehome(outcome.responseId, conversation);
    if (stop.signal.aborted) return null;
    const info = outcome.responseId ? store.exchangeInfo(outcome.responseId) : null;
    const scores =
      outcome.error === null
        ? await scoreAnswer(
            { text: outcome.text, totalMs: outcome.totalMs },
            task.benchCase.reference,
            run.settings.checks,
          )
        : null;
    if (scores && run.settings.judge) {
      const judge = await judgeAnswer(
        input.client,
        run.settings.judge,
        { request: task.benchCase.prompt, reference: task.benchCase.reference, answer: outcome.text },
        stop.signal,
      );
      if (judge.responseId) store.rehome(judge.responseId, conversationOf("judge", run.settings.judge));
      if (stop.signal.aborted) return null;
      scores.judge = judge;
    }
    return {
      runId: run.id,
      caseId: task.benchCase.id,
      candidate,
      repeat: task.repeat,
      responseId: outcome.responseId && info ? outcome.responseId : null,
      conversationId: outcome.responseId && info ? conversation.id : null,
      outputText: outcome.text,
      ttftMs: outcome.ttftMs,
      totalMs: outcome.totalMs,
      tokensPerSecond:
        outcome.error === null ? tokensPerSecond(outcome.outputTokens, outcome.totalMs, outcome.ttftMs) : null,
      inputTokens: outcome.inputTokens,
      outputTokens: outcome.outputTokens,
      usageEstimated: outcome.usageEstimated,
      costUsd: info?.costUsd ?? null,
      finishReason: outcome.finishReason,
      error: outcome.error,
      scores,
      datetimeUtc: llmDatetime(Date.now()),
    };
  };

  const worker = async (entry: (typeof perCandidate)[number]): Promise<void> => {
    while (!stop.signal.aborted) {
      const task = entry.tasks.shift();
      if (!task) return;
      try {
        const result = await runTask(entry.candidate, task);
        if (!result) return;
        store.saveResult(result);
        completed++;
        remaining--;
        entry.progress.done++;
        if (result.error !== null) entry.progress.errors++;
        input.progress?.update({ ...entry.progress });
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error("a bench task failed", { cause: error });
        stop.abort(error);
        return;
      }
    }
  };

  try {
    await Promise.all(
      perCandidate.flatMap((entry) =>
        Array.from({ length: Math.min(concurrency, Math.max(1, entry.tasks.length)) }, () => worker(entry)),
      ),
    );
  } finally {
    signal.removeEventListener("abort", onAbort);
    input.progress?.stop();
  }
  if (failure) {
    store.setStatus(run.id, "interrupted");
    throw failure;
  }
  const interrupted = remaining > 0;
  store.setStatus(run.id, interrupted ? "interrupted" : "done");
  return { interrupted, completed, remaining };
}
