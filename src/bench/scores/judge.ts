/**
 * The optional llm-judge: a chosen model grades a candidate's answer
 * against the reference from 1 to 10 with a fixed rubric, and answers with
 * `{"grade": n, "rationale": "…"}`. The call goes through the same library
 * client as the candidates (so it is routed and recorded like them).
 */
import type { ChatMessage, LLMClient } from "../../library/types.js";
import type { JudgeScore } from "../types.js";

/** The rubric, sent as the system message of every judge call (fixed, so grades compare across runs). */
export const JUDGE_RUBRIC = `You are an impartial judge of AI assistant answers.
You are given a request, a reference answer (what a trusted model answered) and a candidate answer.
Grade how well the candidate answer serves the request, using the reference as the standard:
- correctness: facts, code and instructions are right and would work;
- completeness: everything the request (and the reference) covers is covered;
- format: the answer follows the format the request asks for (for example file listings or JSON);
- concision: no filler, no missing or elided content.
Scale: 10 = as good as or better than the reference; 7-9 = minor problems; 4-6 = useful but with real gaps or errors;
2-3 = mostly wrong or off-format; 1 = useless, empty or unrelated.
Reply with one JSON object and nothing else: {"grade": <integer 1-10>, "rationale": "<one or two sentences>"}`;

/** Longest text of each part (request, reference, answer) shown to the judge, in characters. */
export const JUDGE_PART_LIMIT = 12_000;

/** `max_tokens` of a judge call. */
export const JUDGE_MAX_TOKENS = 400;

function clip(text: string): string {
  return text.length > JUDGE_PART_LIMIT
    ? `${text.slice(0, JUDGE_PART_LIMIT)}\n[… ${text.length - JUDGE_PART_LIMIT} more characters cut]`
    : text;
}

/** The messages of one judge call. */
export function judgeMessages(request: string, reference: string, answer: string): ChatMessage[] {
  const user = [
    "## Request",
    clip(request),
    "",
    "## Reference answer",
    clip(reference),
    "",
    "## Candidate answer",
    clip(answer),
    "",
    'Grade the candidate answer. Reply with JSON only: {"grade": <1-10>, "rationale": "..."}',
  ].join("\n");
  return [
    { role: "system", content: JUDGE_RUBRIC },
    { role: "user", content: user },
  ];
}

/**
 * The grade and rationale in a judge's reply: the first JSON object with a
 * `grade`, else a `grade: n` (or `n/10`) in the text. Grades are rounded and
 * must be within 1–10, else the grade is null.
 */
export function parseJudgeReply(reply: string): { grade: number | null; rationale: string } {
  for (const match of reply.matchAll(/\{[^{}]*\}/g)) {
    try {
      const parsed = JSON.parse(match[0]) as { grade?: unknown; rationale?: unknown };
      if (parsed.grade !== undefined) {
        return {
          grade: validGrade(Number(parsed.grade)),
          rationale: typeof parsed.rationale === "string" ? parsed.rationale : reply.trim(),
        };
      }
    } catch {
      // not JSON: try the next object
    }
  }
  const loose = /grade\D{0,5}(\d{1,2}(?:\.\d+)?)/i.exec(reply) ?? /\b(\d{1,2}(?:\.\d+)?)\s*\/\s*10\b/.exec(reply);
  return { grade: loose ? validGrade(Number(loose[1])) : null, rationale: reply.trim() };
}

function validGrade(value: number): number | null {
  if (!Number.isFinite(value)) return null;
  const grade = Math.round(value);
  return grade >= 1 && grade <= 10 ? grade : null;
}

/**
 * Asks `model` to grade `answer`. Never rejects: a failed call gives a
 * score with `grade: null` and `error` set.
 */
export async function judgeAnswer(
  client: LLMClient,
  model: string,
  input: { request: string; reference: string; answer: string },
  signal?: AbortSignal,
): Promise<JudgeScore> {
  const response = await client.generateCompletionWithMessages(
    judgeMessages(input.request, input.reference, input.answer),
    {
      model,
      temperature: 0,
      maxTokens: JUDGE_MAX_TOKENS,
      ...(signal ? { signal } : {}),
    },
  );
  const responseId = response.id || null;
  if (!response.success)
    return { model, grade: null, rationale: "", responseId, error: response.error ?? "the judge call failed" };
  return { model, ...parseJudgeReply(response.content), responseId };
}
