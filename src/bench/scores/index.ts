/** Scores of one answer against its reference: similarity (edit distance, token F1) and the declared checks. */
import type { CheckSpec, Scores } from "../types.js";
import { runChecks } from "./checks.js";
import { editSimilarityYielding } from "./edit-distance.js";
import { tokenF1 } from "./token-f1.js";

/** Rounds a score to 4 decimals (the stored and reported precision). */
export function roundScore(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/**
 * The scores of `answer` (its text and total time in ms) against `reference`.
 * The judge's grade, when asked for, is added by the runner. The edit distance
 * yields to the event loop as it goes, so calls streaming meanwhile keep true times.
 */
export async function scoreAnswer(
  answer: { text: string; totalMs: number },
  reference: string,
  checks: readonly CheckSpec[],
): Promise<Scores> {
  return {
    editSimilarity: roundScore(await editSimilarityYielding(answer.text, reference)),
    tokenF1: roundScore(tokenF1(answer.text, reference)),
    checks: runChecks(checks, answer),
  };
}
