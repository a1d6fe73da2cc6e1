/**
 * Format checks declared in a `bench.yaml`, in promptfoo's spirit
 * (https://www.promptfoo.dev/docs/configuration/expected-outputs/): each
 * entry has a `type` and, for most, a `value`.
 *
 * ```yaml
 * checks:                    # `assert:` is accepted too
 *   - type: contains         # the answer contains the text
 *     value: "def fib"
 *     ignore_case: true      # optional
 *   - type: regex            # the answer matches (JavaScript syntax)
 *     value: "^src/main\\.py$"
 *     flags: m               # optional
 *   - type: is-json          # the whole answer (trimmed) is JSON
 *   - type: max-latency-ms   # total time of the call ≤ value, in ms
 *     value: 5000
 *   - type: file-listing     # aider's file-listing format: a path line, then a fenced block
 *     name: aider-format     # optional name for the report (default: from type and value)
 * ```
 */
import fs from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { readZodIssue } from "../../protocol/zod-issue.js";
import type { CheckResult, CheckSpec } from "../types.js";
import { parseFileListings } from "./file-listing.js";

/** A bench.yaml that cannot be read or is invalid; the message names the file and the entry. */
export class ChecksFileError extends Error {}

const named = { name: z.string().min(1).optional() };
const entrySchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("contains"),
    value: z.string().min(1),
    ignore_case: z.boolean().default(false),
    ...named,
  }),
  z.strictObject({
    type: z.literal("regex"),
    value: z.string().min(1),
    flags: z
      .string()
      .regex(/^[imsu]*$/, "flags may only use i, m, s, u")
      .default(""),
    ...named,
  }),
  z.strictObject({ type: z.literal("is-json"), ...named }),
  z.strictObject({ type: z.literal("max-latency-ms"), value: z.number().positive(), ...named }),
  z.strictObject({ type: z.literal("file-listing"), ...named }),
]);
const fileSchema = z.strictObject({
  checks: z.array(entrySchema).optional(),
  assert: z.array(entrySchema).optional(),
});

/** The check specs of a parsed bench.yaml document (names filled in and made unique). */
export function checksFromDocument(document: unknown, source = "bench.yaml"): CheckSpec[] {
  const result = fileSchema.safeParse(document ?? {});
  if (!result.success) {
    const issue = readZodIssue(result.error, document);
    const where = issue?.param || "(top level)";
    throw new ChecksFileError(`Invalid ${source}: ${where}: ${issue?.message ?? "invalid"}`);
  }
  const entries = [...(result.data.checks ?? []), ...(result.data.assert ?? [])];
  const seen = new Map<string, number>();
  return entries.map((entry): CheckSpec => {
    const base = entry.name ?? defaultName(entry);
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    const name = count === 1 ? base : `${base} #${count}`;
    switch (entry.type) {
      case "contains":
        return { type: "contains", name, value: entry.value, ignoreCase: entry.ignore_case };
      case "regex":
        try {
          new RegExp(entry.value, entry.flags);
        } catch (error) {
          throw new ChecksFileError(`Invalid ${source}: check '${name}': ${(error as Error).message}`);
        }
        return { type: "regex", name, value: entry.value, flags: entry.flags };
      case "max-latency-ms":
        return { type: "max-latency-ms", name, value: entry.value };
      default:
        return { type: entry.type, name };
    }
  });
}

/**
 * Reads the checks of a bench.yaml file.
 * @throws ChecksFileError when the file cannot be read, is not YAML or is invalid
 */
export function readChecksFile(file: string): CheckSpec[] {
  let document: unknown;
  try {
    document = parseYaml(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new ChecksFileError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  return checksFromDocument(document, file);
}

function defaultName(entry: z.infer<typeof entrySchema>): string {
  switch (entry.type) {
    case "contains":
      return `contains ${short(entry.value)}`;
    case "regex":
      return `regex /${short(entry.value)}/`;
    case "max-latency-ms":
      return `latency ≤ ${entry.value} ms`;
    default:
      return entry.type;
  }
}

function short(text: string): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > 24 ? `${flat.slice(0, 23)}…` : flat;
}

/** The facts of one answer the checks look at. */
export interface CheckedAnswer {
  text: string;
  /** Total time of the call, in ms. */
  totalMs: number;
}

/** Runs one check on an answer. */
export function runCheck(check: CheckSpec, answer: CheckedAnswer): CheckResult {
  const verdict = (pass: boolean, detail: string): CheckResult => ({
    name: check.name,
    type: check.type,
    pass,
    detail,
  });
  switch (check.type) {
    case "contains": {
      const found = check.ignoreCase
        ? answer.text.toLowerCase().includes(check.value.toLowerCase())
        : answer.text.includes(check.value);
      return verdict(found, found ? "found" : `'${short(check.value)}' not found`);
    }
    case "regex": {
      const match = new RegExp(check.value, check.flags).exec(answer.text);
      return verdict(match !== null, match ? `matched '${short(match[0])}'` : "no match");
    }
    case "is-json":
      try {
        JSON.parse(answer.text.trim());
        return verdict(true, "valid JSON");
      } catch (error) {
        return verdict(false, `not JSON: ${(error as Error).message}`);
      }
    case "max-latency-ms":
      return verdict(answer.totalMs <= check.value, `${Math.round(answer.totalMs)} ms`);
    case "file-listing": {
      const parsed = parseFileListings(answer.text);
      return verdict(
        parsed.problem === null,
        parsed.problem ?? `${parsed.paths.length} listing(s): ${parsed.paths.join(", ")}`,
      );
    }
  }
}

/** Runs every check on an answer, in order. */
export function runChecks(checks: readonly CheckSpec[], answer: CheckedAnswer): CheckResult[] {
  return checks.map((check) => runCheck(check, answer));
}
