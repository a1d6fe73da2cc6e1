/**
 * The GBNF grammar of an output constraint (`constrained.ts`), for the
 * backends that take a grammar but no JSON schema: KoboldCpp's `grammar`
 * and text-generation-webui's `grammar_string` (llama.cpp's GBNF,
 * https://github.com/ggml-org/llama.cpp/blob/master/grammars/README.md).
 *
 * The grammar is written by node-llama-cpp (the optional peer dependency
 * the `local` provider runs on), not by llm-relay: `llama.createGrammarForJsonSchema(schema)`
 * for a schema, and its bundled `json` grammar (`llama.getGrammarFor("json")`)
 * for `json_object`. Both need node-llama-cpp's native binding: the grammar
 * text is parsed by llama.cpp's own grammar parser when it is made, so what
 * is sent has been accepted by llama.cpp. The binding is opened once per
 * process, on the first constrained request, with `getLlama({ gpu: false,
 * build: "never" })`: CPU only (no GPU context is set up for writing text),
 * never a download or a build; that costs about 1.2 s once (import plus
 * binding, measured on a quiet 2-core machine; about 3 s at a load average
 * of 12), then 2–15 ms per grammar. Lazily, so a deployment that never
 * constrains never loads native code.
 *
 * node-llama-cpp's grammars end with four newlines (`"\n\n\n\n" [\n]*`), its
 * way to let the model finish after the JSON; it stops generation on them
 * (the grammar's `stopGenerationTriggers`). A server only knows the grammar,
 * so those triggers join the request's stop sequences.
 *
 * When there is no grammar to send (node-llama-cpp is not installed or has
 * no binary for this machine, or the schema lies outside node-llama-cpp's
 * subset: `gbnf-schema-subset.ts`), one warning is logged for the request
 * and the backend is asked without a grammar: the prompt alone, its answer
 * read with the tool convention and checked as for an unconstrained backend.
 */
import type { Llama, LlamaGrammar, GbnfJsonSchema } from "node-llama-cpp";
import { importNodeLlamaCpp, type NodeLlamaCppImport } from "../local/node-llama.js";
import type { OutputConstraint } from "./constrained.js";
import { gbnfSchemaProblem } from "./gbnf-schema-subset.js";

/** A grammar for a server. */
export interface GbnfGrammar {
  /** The GBNF text. */
  grammar: string;
  /** Stop sequences the grammar needs (its trailing newlines), to add to the request's own. */
  stop: string[];
}

/** One CPU binding per import function (one per process for the real import); a failure is not kept. */
const bindings = new WeakMap<NodeLlamaCppImport, Promise<Llama>>();

function cpuBinding(importModule: NodeLlamaCppImport): Promise<Llama> {
  let binding = bindings.get(importModule);
  if (!binding) {
    binding = importModule()
      .then((module) => module.getLlama({ gpu: false, build: "never", logLevel: module.LlamaLogLevel.error }))
      .catch((error: unknown) => {
        bindings.delete(importModule);
        throw error;
      });
    bindings.set(importModule, binding);
  }
  return binding;
}

/**
 * The GBNF grammar of `constraint`, or null when there is none to send.
 * @param constraint the request's constraint; null or undefined: no grammar
 * @param warn called once when a constraint gets no grammar, with the reason
 * @param importModule how node-llama-cpp is imported (tests inject a failing one)
 * @returns the grammar and its stop sequences; never rejects
 */
export async function gbnfOfConstraint(
  constraint: OutputConstraint | null | undefined,
  warn: (reason: string) => void,
  importModule: NodeLlamaCppImport = importNodeLlamaCpp,
): Promise<GbnfGrammar | null> {
  if (!constraint) return null;
  const problem = constraint.schema === null ? null : gbnfSchemaProblem(constraint.schema);
  if (problem !== null) {
    warn(`the JSON schema has a part node-llama-cpp cannot write as GBNF: ${problem}`);
    return null;
  }
  let grammar: LlamaGrammar;
  try {
    const llama = await cpuBinding(importModule);
    grammar =
      constraint.schema === null
        ? await llama.getGrammarFor("json")
        : await llama.createGrammarForJsonSchema<GbnfJsonSchema>(constraint.schema as GbnfJsonSchema);
  } catch (error) {
    warn(`node-llama-cpp could not write the grammar: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
  return { grammar: grammar.grammar, stop: grammar.stopGenerationTriggers.map(triggerText).filter((s) => s !== "") };
}

/** A stop trigger as text (node-llama-cpp keeps them as `LlamaText`, strings, or token lists). */
function triggerText(trigger: LlamaGrammar["stopGenerationTriggers"][number]): string {
  if (typeof trigger === "string") return trigger;
  // A trigger with token ids has no text a server could match: left out.
  if (Array.isArray(trigger)) return trigger.every((part) => typeof part === "string") ? trigger.join("") : "";
  return trigger.toString();
}
