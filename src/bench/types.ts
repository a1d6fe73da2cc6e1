/**
 * The shared types of `llm-relay bench`: a replayed case, a run, one
 * result of a candidate on a case, and its scores.
 */
import type { ChatMessage } from "../library/types.js";

/**
 * One recorded exchange to replay: the full message list originally sent
 * (rebuilt from `responses.prompt_json`) and the original answer, which is
 * the reference the candidates are compared with.
 */
export interface BenchCase {
  /** `responses.id` of the recorded exchange. */
  id: string;
  /** The model name the client asked for (`responses.model`). */
  model: string;
  /** `responses.conversation_id`. */
  conversationId: string | null;
  /** `responses.datetime_utc` (`2026-11-21T09:00:00.100000+00:00`). */
  datetimeUtc: string;
  /** The messages as originally sent (`developer` messages sent as `system`). */
  messages: ChatMessage[];
  /** The text of the trailing user message(s): what was asked. */
  prompt: string;
  /** The original answer's text (`responses.response`). */
  reference: string;
  /** `temperature` of the original request, or null when it set none. */
  temperature: number | null;
  /** `max_tokens` (or `max_completion_tokens`) of the original request, or null. */
  maxTokens: number | null;
  /** `top_p` of the original request, or null. */
  topP: number | null;
  /** `stop` of the original request, or null. */
  stop: string | string[] | null;
  /** Other standard request fields replayed as sent (`seed`, `tools`, `response_format`, …). */
  extra: Record<string, unknown>;
  /** Prompt tokens of the original exchange (recorded, or counted with gpt-tokenizer when missing). */
  inputTokens: number;
  /** Completion tokens of the original exchange (counted with gpt-tokenizer when missing). */
  outputTokens: number;
}

/** A recorded response that matched the selection but cannot be replayed, and why. */
export interface SkippedCase {
  id: string;
  reason: string;
}

/** Which recorded responses to replay (`bench` selection flags). Every field is optional. */
export interface SelectionFilters {
  /** Requested (or resolved) model name. */
  model?: string;
  /** Only responses at or after this time (ISO date/time, or a relative age such as `7d`, `12h`, `30m`). */
  since?: string;
  /** Only responses before this time (same forms as `since`). */
  until?: string;
  /** Only this conversation id. */
  conversation?: string;
  /** Full-text search in prompt and response (`responses_fts`); each word must occur. */
  search?: string;
  /** Keep the N most recent matches. */
  limit?: number;
  /** Keep N matches drawn at random (after `limit`), reproducibly from `seed`. */
  sample?: number;
  /** Seed of `sample` (an integer). */
  seed?: number;
}

/** Settings of a run, stored with it so that `--resume` replays the same way. */
export interface RunSettings {
  /** How many times each case is replayed per candidate (≥ 1). */
  repeat: number;
  /** Concurrent calls per candidate. */
  concurrency: number;
  /**
   * `max_tokens` for every call, or null: as originally sent, else the candidate's context window
   * minus the case's prompt tokens (when the window is known, see `contextWindows`), else none.
   */
  maxTokens: number | null;
  /** `temperature` for every call, or null: as originally sent. */
  temperature: number | null;
  /** The judge model, or null for no judge. */
  judge: string | null;
  /** The format checks (from bench.yaml), possibly empty. */
  checks: CheckSpec[];
  /**
   * Each candidate's context window in tokens, as known when the run was planned (its deployment's
   * `context_window`, else the model catalog's), or null when unknown. Absent in runs stored before it.
   */
  contextWindows?: Record<string, number | null>;
}

/** State of a run. */
export type RunStatus = "running" | "interrupted" | "done";

/** A stored run (`bench_runs`). */
export interface BenchRun {
  /** Lowercase ULID. */
  id: string;
  /** Creation time, llm's datetime format. */
  createdUtc: string;
  /** When the last task finished (null while running or interrupted). */
  finishedUtc: string | null;
  status: RunStatus;
  /** Candidate model names, in the order given. */
  candidates: string[];
  /** Source `responses.id` of every case, in replay order. */
  caseIds: string[];
  selection: SelectionFilters;
  settings: RunSettings;
  /** Conversation ids the run's answers were recorded into, by label (a candidate, or `judge`). */
  conversations: Record<string, string>;
}

/** One declared format check (a bench.yaml entry). */
export type CheckSpec =
  | { type: "contains"; name: string; value: string; ignoreCase: boolean }
  | { type: "regex"; name: string; value: string; flags: string }
  | { type: "is-json"; name: string }
  | { type: "max-latency-ms"; name: string; value: number }
  | { type: "file-listing"; name: string };

/** The outcome of one check on one answer. */
export interface CheckResult {
  /** The check's name (unique in the run). */
  name: string;
  type: CheckSpec["type"];
  pass: boolean;
  /** Why it failed (or what it found), for the report. */
  detail: string;
}

/** The llm-judge's grade of one answer. */
export interface JudgeScore {
  /** The judge model. */
  model: string;
  /** 1 (useless) … 10 (as good as or better than the reference); null when the judge's answer had no grade. */
  grade: number | null;
  /** The judge's reasons, as it wrote them. */
  rationale: string;
  /** `responses.id` of the judge's call, or null. */
  responseId: string | null;
  /** Set when the judge call failed. */
  error?: string;
}

/** Scores of one answer against its reference. */
export interface Scores {
  /** 1 − Levenshtein distance / length of the longer text (1 = identical). */
  editSimilarity: number;
  /** Token-level F1 of the answer against the reference (SQuAD-style bag of words). */
  tokenF1: number;
  /** One entry per declared check. */
  checks: CheckResult[];
  /** The judge's grade, when a judge was asked. */
  judge?: JudgeScore;
}

/** One stored result (`bench_results`): a candidate's answer to one case, one repeat. */
export interface BenchResult {
  runId: string;
  /** Source `responses.id`. */
  caseId: string;
  candidate: string;
  /** 0-based repeat index. */
  repeat: number;
  /** `responses.id` of the candidate's recorded answer, or null when it was not recorded. */
  responseId: string | null;
  /** The conversation the answer was recorded into. */
  conversationId: string | null;
  /** The answer's text (partial when the stream broke off). */
  outputText: string;
  /** Time to the first text, in ms; null when none came. */
  ttftMs: number | null;
  /** Time to the last token (or the failure), in ms. */
  totalMs: number;
  /** Output tokens per second of generation (after the first token); null when it cannot be told. */
  tokensPerSecond: number | null;
  inputTokens: number;
  outputTokens: number;
  /** Whether the token counts were estimated with gpt-tokenizer (the upstream reported none). */
  usageEstimated: boolean;
  /** Cost in USD as the recorder priced it from the catalog; null when the model has no price. */
  costUsd: number | null;
  finishReason: string | null;
  /** The failure, or null when the answer is complete. */
  error: string | null;
  /** Null when the call failed. */
  scores: Scores | null;
  /** When the result was stored, llm's datetime format. */
  datetimeUtc: string;
}
