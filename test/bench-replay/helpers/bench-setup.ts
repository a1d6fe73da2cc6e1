/**
 * The bench tests' candidates: two fake models with known latency
 * profiles and known answers (one answers each recorded reference exactly,
 * the other a known edit of it), a fake judge, and the config routing the
 * candidate names to them. The fast candidate is routed through a `groq/*`
 * pattern deployment so that the catalog prices its calls.
 */
import path from "node:path";
import { loadConfig, type RelayConfig } from "../../../src/config/load.js";
import { asModelGroups } from "../../../src/config/schema.js";
import { fakeDeployment } from "../../helpers/proxy.js";
import { AIDER_ANSWER, type SentExchange } from "./recorded-exchanges.js";
import { lastUserText, startFakeCandidate, type FakeCandidate } from "./fake-candidate.js";

/** The fast candidate: a catalog model (groq's llama-3.1-8b-instant), served by a fake. */
export const FAST = "groq/llama-3.1-8b-instant";
/** The slow candidate. */
export const SLOW = "slow-local";
/** The judge. */
export const JUDGE = "judge-model";

/** The latency profiles (ms). */
export const FAST_PROFILE = { firstChunkDelayMs: 100, chunkDelayMs: 10, chunkCount: 5 };
export const SLOW_PROFILE = { firstChunkDelayMs: 500, chunkDelayMs: 40, chunkCount: 5 };

/** What the slow candidate appends to every reference (three words no reference has). */
export const SLOW_SUFFIX = " (slow says hi)";

/** The slow candidate's answer to a case whose reference is `reference`: the aider listing loses its path line, others get {@link SLOW_SUFFIX}. */
export function slowAnswer(reference: string): string {
  return reference === AIDER_ANSWER ? reference.slice(reference.indexOf("\n") + 1) : reference + SLOW_SUFFIX;
}

/** The fakes behind the candidates and the judge. */
export interface Candidates {
  fast: FakeCandidate;
  slow: FakeCandidate;
  judge: FakeCandidate;
  close(): Promise<void>;
}

/** The judge's grade: 9 when the candidate answer equals the reference, else 3. */
export function fakeJudgeReply(body: Record<string, unknown>): string {
  const text = lastUserText(body);
  const reference = /## Reference answer\n([\s\S]*?)\n\n## Candidate answer\n/.exec(text)?.[1];
  const candidate = /## Candidate answer\n([\s\S]*?)\n\nGrade the candidate answer/.exec(text)?.[1];
  const same = reference !== undefined && reference === candidate;
  return JSON.stringify({
    grade: same ? 9 : 3,
    rationale: same ? "Identical to the reference." : "Differs from the reference.",
  });
}

/** Starts the fakes; `references` maps each recorded request's last user text to its answer. */
export async function startCandidates(exchanges: readonly SentExchange[]): Promise<Candidates> {
  const references = new Map(exchanges.filter((e) => e.answer !== null).map((e) => [lastUserText(e.body), e.answer!]));
  const reference = (body: Record<string, unknown>) => references.get(lastUserText(body)) ?? "unknown request";
  const fast = await startFakeCandidate({ ...FAST_PROFILE, answer: reference });
  const slow = await startFakeCandidate({
    ...SLOW_PROFILE,
    usage: { prompt_tokens: 50, completion_tokens: 20 },
    answer: (body) => slowAnswer(reference(body)),
  });
  const judge = await startFakeCandidate({
    firstChunkDelayMs: 0,
    chunkDelayMs: 0,
    chunkCount: 1,
    answer: fakeJudgeReply,
  });
  return {
    fast,
    slow,
    judge,
    async close() {
      await Promise.all([fast.close(), slow.close(), judge.close()]);
    },
  };
}

/** The routes of the candidates and the judge, as a config file's `models:` would give them. */
export function candidateModels(candidates: Candidates) {
  return {
    "groq/*": fakeDeployment(candidates.fast.baseUrl),
    [SLOW]: fakeDeployment(candidates.slow.baseUrl, { model: "slow-upstream" }),
    [JUDGE]: fakeDeployment(candidates.judge.baseUrl, { model: "judge-upstream" }),
  };
}

/** A full config on `dbPath` with the candidates routed (no config file, no API keys). */
export function benchConfig(dbPath: string, candidates: Candidates): RelayConfig {
  const base = loadConfig({ cwd: path.dirname(dbPath), env: {}, db: dbPath });
  return { ...base, defaultModel: null, models: { ...base.models, ...asModelGroups(candidateModels(candidates)) } };
}
