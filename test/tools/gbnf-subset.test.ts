/**
 * Which JSON schemas go to a GBNF-only backend as a grammar
 * (`raw/gbnf-schema-subset.ts`), and what `gbnfOfConstraint` does when
 * there is no grammar to send: every schema the check accepts is turned
 * into a grammar by the real node-llama-cpp; every one it refuses names
 * the keyword and where it is; a refused schema or a node-llama-cpp that
 * cannot be imported gives null and one warning.
 */
import { describe, expect, it } from "vitest";
import { gbnfOfConstraint } from "../../src/providers/raw/gbnf.js";
import { gbnfSchemaProblem } from "../../src/providers/raw/gbnf-schema-subset.js";
import { TWO_TOOLS } from "./helpers/tools.js";

const ACCEPTED: [string, Record<string, unknown>][] = [
  ["a function's parameters", TWO_TOOLS[0]!.function.parameters!],
  [
    "enum, const and a type list",
    { type: "object", properties: { unit: { enum: ["C", "F"] }, at: { const: 3 }, n: { type: ["integer", "null"] } } },
  ],
  ["oneOf of objects", { oneOf: [{ type: "object", properties: { a: { type: "string" } } }, { type: "null" }] }],
  [
    "$ref into $defs",
    { $defs: { city: { type: "string", minLength: 1 } }, type: "object", properties: { c: { $ref: "#/$defs/city" } } },
  ],
  ["arrays and date formats", { type: "array", items: { type: "string", format: "date" }, minItems: 1, maxItems: 3 }],
  [
    "annotations",
    {
      title: "T",
      description: "d",
      type: "object",
      properties: { x: { type: "boolean", default: true } },
      additionalProperties: false,
    },
  ],
];

const REFUSED: [string, Record<string, unknown>, string][] = [
  [
    "anyOf (node-llama-cpp writes null for it)",
    { type: "object", properties: { when: { anyOf: [{ type: "string" }] } } },
    '"anyOf" at /properties/when',
  ],
  ["a pattern it would drop", { type: "string", pattern: "^[A-Z]" }, '"pattern" at /'],
  [
    "a minimum it would drop",
    { type: "object", properties: { n: { type: "integer", minimum: 1 } } },
    '"minimum" at /properties/n',
  ],
  ["a node without type", { type: "object", properties: { x: { description: "anything" } } }, 'without "type"'],
  ["an object in a type list", { type: ["object", "null"] }, '"type" ["object","null"]'],
  ["a $ref outside $defs", { $ref: "#/definitions/x" }, '"$ref" outside #/$defs/'],
  ["a string format it lacks", { type: "string", format: "email" }, '"format" "email"'],
  ["allOf in array items", { type: "array", items: { allOf: [] } }, "at /items"],
];

describe("the JSON-schema subset node-llama-cpp writes as GBNF", () => {
  it.each(ACCEPTED)("accepts %s, and node-llama-cpp writes its grammar", async (_name, schema) => {
    expect(gbnfSchemaProblem(schema)).toBeNull();
    const warnings: string[] = [];
    const grammar = await gbnfOfConstraint({ kind: "json", schema }, (reason) => warnings.push(reason));
    expect(warnings).toEqual([]);
    expect(grammar?.grammar).toMatch(/^root ::= /m);
    expect(grammar?.stop).toEqual(["\n\n\n\n"]);
  });

  it.each(REFUSED)("refuses %s, naming it", async (_name, schema, problem) => {
    expect(gbnfSchemaProblem(schema)).toContain(problem);
    const warnings: string[] = [];
    expect(await gbnfOfConstraint({ kind: "json", schema }, (reason) => warnings.push(reason))).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(problem);
  });
});

describe("no grammar to send", () => {
  it("without a constraint: null and no warning", async () => {
    const warnings: string[] = [];
    expect(await gbnfOfConstraint(null, (reason) => warnings.push(reason))).toBeNull();
    expect(warnings).toEqual([]);
  });

  it("when node-llama-cpp cannot be imported: null and one warning naming the failure, and a later import is tried again", async () => {
    const warnings: string[] = [];
    let imports = 0;
    const missing = () => {
      imports++;
      return Promise.reject(new Error("Cannot find package 'node-llama-cpp'"));
    };
    const constraint = { kind: "json" as const, schema: null };
    expect(await gbnfOfConstraint(constraint, (reason) => warnings.push(reason), missing)).toBeNull();
    expect(await gbnfOfConstraint(constraint, (reason) => warnings.push(reason), missing)).toBeNull();
    expect(warnings).toEqual([
      "node-llama-cpp could not write the grammar: Cannot find package 'node-llama-cpp'",
      "node-llama-cpp could not write the grammar: Cannot find package 'node-llama-cpp'",
    ]);
    expect(imports).toBe(2);
  });
});
