/**
 * Which provider kinds run on the user's own hardware, so their tokens
 * cost $0 (`catalog/cost.ts`) and budgets are charged nothing: the `local`
 * flags of the provider modules, as plain data. This file imports no
 * provider code, so the cost rule (and the record worker, which prices
 * every exchange) does not load every provider's implementation.
 * `src/providers/modules.ts` checks at compile time that this list names
 * exactly the kinds whose module is declared with `local: true`.
 */
import type { ProviderKind } from "./kinds.js";

/** The kinds whose module declares `local: true`, in the order of `PROVIDER_KINDS`. */
export const LOCAL_KINDS = [
  "echo",
  "ollama",
  "llamacpp",
  "koboldcpp",
  "webui",
  "lmstudio",
  "vllm",
  "local",
] as const satisfies readonly ProviderKind[];

/** A kind that runs on the user's own hardware. */
export type LocalProviderKind = (typeof LOCAL_KINDS)[number];

/** Kinds of the modules marked `local` (run on the user's own hardware): their exchanges cost $0. */
export const LOCAL_PROVIDER_KINDS: ReadonlySet<ProviderKind> = new Set<ProviderKind>(LOCAL_KINDS);

/** Whether `kind` (a record's `provider`, any string) names a module marked `local`; false for unknown kinds. */
export function isLocalProviderKind(kind: string): boolean {
  return (LOCAL_PROVIDER_KINDS as ReadonlySet<string>).has(kind);
}
