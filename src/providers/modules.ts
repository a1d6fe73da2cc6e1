/**
 * THE list of provider modules. Adding a provider = its folder (with an
 * `index.ts` exporting a `defineProvider(...)` module) + one line here
 * (+ its kind in `kinds.ts`, and in `local-kinds.ts` when it is local,
 * which the checks below enforce). Everything else is derived from this
 * list: the registry's factories (`registry.ts`), and, through the plain
 * lists `kinds.ts` and `local-kinds.ts` (which load no provider code), the
 * config schema's `provider` enum and the local (free) rule of
 * `catalog/cost.ts`.
 */
import { anthropicModule } from "./anthropic/index.js";
import { echoModule } from "./echo/index.js";
import { PROVIDER_KINDS, type ProviderKind } from "./kinds.js";
import { koboldCppModule } from "./koboldcpp/index.js";
import { llamaCppModule } from "./llamacpp/index.js";
import type { LocalProviderKind } from "./local-kinds.js";
import { lmStudioModule } from "./lmstudio/index.js";
import { localModule } from "./local/index.js";
import { ollamaModule } from "./ollama/index.js";
import { openAiCompatibleModule } from "./openai-compatible/index.js";
import type { ProviderModule } from "./provider-module.js";
import { vllmModule } from "./vllm/index.js";
import { webuiModule } from "./webui/index.js";

/** Every provider this build serves, one module per kind. */
export const PROVIDER_MODULES = [
  echoModule,
  openAiCompatibleModule,
  anthropicModule,
  ollamaModule,
  llamaCppModule,
  koboldCppModule,
  webuiModule,
  lmStudioModule,
  vllmModule,
  localModule,
] as const;

/** The kinds of {@link PROVIDER_MODULES}, in order. */
type KindsOf<T extends readonly ProviderModule[]> = {
  readonly [I in keyof T]: T[I] extends ProviderModule<infer K> ? K : never;
};
/** True when `A` and `B` are the same type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/**
 * Compile-time check: `kinds.ts` names exactly the modules' kinds, in the
 * same order (so no kind without a module, no module without a kind, no
 * kind twice). A mismatch fails `tsc` here.
 */
const KINDS_MATCH_MODULES: Same<KindsOf<typeof PROVIDER_MODULES>, typeof PROVIDER_KINDS> = true;
void KINDS_MATCH_MODULES;

/** The kinds of the modules of `M` (a union of modules) declared with `local: true`. */
type LocalKindsOf<M> = M extends ProviderModule<infer K, infer L> ? (L extends true ? K : never) : never;
/** The kinds of the modules of `M` declared with `local: false`. */
type HostedKindsOf<M> = M extends ProviderModule<infer K, infer L> ? (L extends false ? K : never) : never;
type Module = (typeof PROVIDER_MODULES)[number];
/**
 * Compile-time check: `local-kinds.ts` names exactly the kinds of the
 * modules declared `local: true`, and every other module is declared
 * `local: false` (a flag typed plain `boolean` fails too). A mismatch
 * fails `tsc` here.
 */
const LOCAL_KINDS_MATCH_MODULES: [
  Same<LocalKindsOf<Module>, LocalProviderKind>,
  Same<HostedKindsOf<Module>, Exclude<ProviderKind, LocalProviderKind>>,
] = [true, true];
void LOCAL_KINDS_MATCH_MODULES;

const MODULES_BY_KIND: ReadonlyMap<string, ProviderModule> = new Map(
  PROVIDER_MODULES.map((module) => [module.kind, module]),
);

/**
 * The module serving `kind`.
 * @throws Error when `kind` is not a {@link ProviderKind} (the config schema rejects such kinds before this is reached)
 */
export function providerModule(kind: ProviderKind): ProviderModule {
  const module = MODULES_BY_KIND.get(kind);
  if (!module) throw new Error(`no provider module of kind ${JSON.stringify(kind)}`);
  return module;
}
