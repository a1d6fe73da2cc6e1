/**
 * Which JSON schemas node-llama-cpp turns into a GBNF grammar that means
 * what the schema means (`GbnfJsonSchema`, node-llama-cpp 3.21
 * `dist/utils/gbnfJson/types.d.ts`, https://node-llama-cpp.withcat.ai/guide/grammar#json-schema).
 *
 * Its converter does not refuse what it does not know: a keyword outside its
 * subset is dropped without a word (`pattern`, `minimum`, …: the grammar then
 * lets through values the schema forbids), and some nodes are misread
 * (`anyOf` / `allOf`, a node without `type`, `type: ["object", "null"]` all
 * become the grammar of `null`; a `$ref` outside `#/$defs/` becomes "any
 * JSON"). So the schema is checked first, and one outside the subset is not
 * constrained at all rather than constrained wrongly.
 *
 * The subset: `const` and `enum` of JSON primitives; `oneOf`; `$ref` to
 * `#/$defs/…`; `type` `string` (`minLength`, `maxLength`, `format` `date`,
 * `time` or `date-time`), `number`, `integer`, `boolean`, `null` or a list
 * of those; `type: "object"` (`properties`, `additionalProperties`,
 * `minProperties`, `maxProperties`, `required`); `type: "array"` (`items`,
 * `prefixItems`, `minItems`, `maxItems`); `$defs` beside any of them; and
 * the annotations (`description`, `title`, `default`, `examples`, …)
 * anywhere. Two differences narrow the output without making it invalid,
 * so they are accepted: the grammar writes every listed property (it
 * ignores `required`), and no property beyond `properties` unless
 * `additionalProperties` allows it.
 */

/** Keywords that carry no constraint and may sit on any node. */
const ANNOTATIONS = new Set([
  "description",
  "title",
  "default",
  "examples",
  "$schema",
  "$id",
  "$comment",
  "deprecated",
  "readOnly",
  "writeOnly",
]);

/** The primitive types a basic node may list. */
const PRIMITIVE_TYPES = new Set(["string", "number", "integer", "boolean", "null"]);
/** The string formats node-llama-cpp writes a grammar for. */
const STRING_FORMATS = new Set(["date", "time", "date-time"]);

/** The keywords each form of node may carry, besides the annotations and `$defs`. */
const FORM_KEYWORDS = {
  ref: ["$ref"],
  oneOf: ["oneOf"],
  const: ["const", "type"],
  enum: ["enum", "type"],
  object: ["type", "properties", "additionalProperties", "minProperties", "maxProperties", "required"],
  array: ["type", "items", "prefixItems", "minItems", "maxItems"],
  string: ["type", "minLength", "maxLength", "format"],
  basic: ["type"],
} as const;

/**
 * The first part of `schema` node-llama-cpp's `GbnfJsonSchema` cannot express faithfully, or null when it can.
 * @param schema a JSON schema (as a client sent it)
 * @returns a short reason naming the keyword and its JSON pointer, e.g. `"anyOf" at /properties/when`
 */
export function gbnfSchemaProblem(schema: unknown): string | null {
  return problemAt(schema, "");
}

function problemAt(node: unknown, path: string): string | null {
  const where = path === "" ? "/" : path;
  if (!isObject(node)) return `a schema that is not an object at ${where}`;
  const form = formOf(node);
  if (typeof form !== "string") return `${form.problem} at ${where}`;
  const allowed = new Set<string>(FORM_KEYWORDS[form]);
  for (const key of Object.keys(node)) {
    if (!allowed.has(key) && !ANNOTATIONS.has(key) && key !== "$defs") return `"${key}" at ${where}`;
  }
  const defs = node.$defs;
  if (defs !== undefined) {
    if (!isObject(defs)) return `"$defs" that is not an object at ${where}`;
    for (const [name, def] of Object.entries(defs)) {
      const problem = problemAt(def, `${path}/$defs/${name}`);
      if (problem) return problem;
    }
  }
  return childProblem(node, form, path);
}

type Form = keyof typeof FORM_KEYWORDS;

/** Which form of node-llama-cpp's schema `node` is (checked in its converter's order), or why it is none. */
function formOf(node: Record<string, unknown>): Form | { problem: string } {
  if ("$ref" in node) {
    const ref = node.$ref;
    return typeof ref === "string" && ref.startsWith("#/$defs/") ? "ref" : { problem: `"$ref" outside #/$defs/` };
  }
  if ("oneOf" in node) return Array.isArray(node.oneOf) ? "oneOf" : { problem: `"oneOf" that is not a list` };
  if ("const" in node) return isPrimitive(node.const) ? "const" : { problem: `"const" that is not a JSON primitive` };
  if ("enum" in node)
    return Array.isArray(node.enum) && node.enum.every(isPrimitive)
      ? "enum"
      : { problem: `"enum" that is not a list of JSON primitives` };
  const type = node.type;
  if (type === "object") return "object";
  if (type === "array") return "array";
  if (type === "string") {
    const format = node.format;
    return format === undefined || (typeof format === "string" && STRING_FORMATS.has(format))
      ? "string"
      : { problem: `"format" ${JSON.stringify(format)}` };
  }
  if (typeof type === "string" && PRIMITIVE_TYPES.has(type)) return "basic";
  if (Array.isArray(type) && type.length > 0 && type.every((t) => typeof t === "string" && PRIMITIVE_TYPES.has(t)))
    return "basic";
  if (type === undefined) {
    // anyOf, allOf, not, … : named, so the warning says what to change.
    const keyword = Object.keys(node).find((key) => !ANNOTATIONS.has(key) && key !== "$defs");
    return { problem: keyword ? `"${keyword}"` : `a schema without "type", "const", "enum", "oneOf" or "$ref"` };
  }
  return { problem: `"type" ${JSON.stringify(type)}` };
}

/** The first problem in the subschemas of a node of `form`. */
function childProblem(node: Record<string, unknown>, form: Form, path: string): string | null {
  const children: [unknown, string][] = [];
  if (form === "oneOf") (node.oneOf as unknown[]).forEach((item, i) => children.push([item, `${path}/oneOf/${i}`]));
  if (form === "object") {
    const properties = node.properties ?? {};
    if (!isObject(properties)) return `"properties" that is not an object at ${path || "/"}`;
    for (const [name, property] of Object.entries(properties)) children.push([property, `${path}/properties/${name}`]);
    if (isObject(node.additionalProperties)) children.push([node.additionalProperties, `${path}/additionalProperties`]);
    else if (node.additionalProperties !== undefined && typeof node.additionalProperties !== "boolean")
      return `"additionalProperties" that is neither a boolean nor a schema at ${path || "/"}`;
  }
  if (form === "array") {
    if (node.items !== undefined) children.push([node.items, `${path}/items`]);
    if (node.prefixItems !== undefined) {
      if (!Array.isArray(node.prefixItems)) return `"prefixItems" that is not a list at ${path || "/"}`;
      node.prefixItems.forEach((item: unknown, i) => children.push([item, `${path}/prefixItems/${i}`]));
    }
  }
  for (const [child, childPath] of children) {
    const problem = problemAt(child, childPath);
    if (problem) return problem;
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPrimitive(value: unknown): boolean {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}
