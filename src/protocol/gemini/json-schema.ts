/**
 * Google's `Schema` (https://ai.google.dev/api/caching#Schema: an OpenAPI 3.0
 * subset with upper-case `type`s, `nullable`, `propertyOrdering`, int64
 * bounds written as strings) → the JSON Schema a chat request's function
 * `parameters` and `response_format` take
 * (https://platform.openai.com/docs/guides/structured-outputs).
 *
 * The same walk serves the Gemini API's JSON Schema fields
 * (`parametersJsonSchema`, `responseJsonSchema`), which clients sometimes
 * fill with Google's upper-case types too (Gemini CLI's router request
 * does): for a plain JSON Schema it changes nothing.
 */

/** Google's `Type` names and their JSON Schema type (`TYPE_UNSPECIFIED`: none). */
const TYPES: Record<string, string | null> = {
  TYPE_UNSPECIFIED: null,
  STRING: "string",
  NUMBER: "number",
  INTEGER: "integer",
  BOOLEAN: "boolean",
  ARRAY: "array",
  OBJECT: "object",
  NULL: "null",
};

/** Keywords whose value is one subschema. */
const SCHEMA_KEYS = new Set(["items", "not", "additionalProperties", "contains", "propertyNames"]);
/** Keywords whose value is a list of subschemas. */
const SCHEMA_LIST_KEYS = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);
/** Keywords whose value maps names to subschemas. */
const SCHEMA_MAP_KEYS = new Set(["properties", "patternProperties", "$defs", "definitions"]);
/** Google's int64 bounds, which JSON carries as decimal strings. */
const INT64_KEYS = new Set(["minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"]);

/**
 * The JSON Schema of a Google `Schema` (or of a JSON Schema written with Google's types):
 * upper-case `type` → lower-case (`TYPE_UNSPECIFIED` dropped), `nullable: true` → `"null"` added to
 * the type, `propertyOrdering` dropped, int64 bounds given as strings → numbers; subschemas likewise.
 * Anything that is not an object is returned as it is.
 */
export function toJsonSchema(schema: unknown): unknown {
  if (!isRecord(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "propertyOrdering" || key === "nullable") continue;
    if (key === "type") {
      const type = jsonType(value);
      if (type !== undefined) out.type = type;
    } else if (SCHEMA_KEYS.has(key)) out[key] = toJsonSchema(value);
    else if (SCHEMA_LIST_KEYS.has(key) && Array.isArray(value)) out[key] = value.map(toJsonSchema);
    else if (SCHEMA_MAP_KEYS.has(key) && isRecord(value))
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toJsonSchema(sub)]));
    else if (INT64_KEYS.has(key) && typeof value === "string" && /^\d+$/.test(value)) out[key] = Number(value);
    else out[key] = value;
  }
  if (schema.nullable === true) out.type = withNull(out.type);
  return out;
}

/** The JSON Schema `type` of a `type` value (a name or a list of names); undefined to leave it out. */
function jsonType(value: unknown): unknown {
  if (typeof value === "string") return value in TYPES ? (TYPES[value] ?? undefined) : value;
  if (Array.isArray(value))
    return (value as unknown[]).map((name) => (typeof name === "string" && TYPES[name]) || name);
  return value;
}

/** `type` with `"null"` added (a schema with no type stays without one: it already admits null). */
function withNull(type: unknown): unknown {
  if (typeof type === "string") return type === "null" ? type : [type, "null"];
  if (Array.isArray(type)) {
    const types = type as unknown[];
    return types.includes("null") ? types : [...types, "null"];
  }
  return type;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
