/**
 * JSON as Python's `json.dumps` writes it with its defaults (`", "` and
 * `": "` separators, non-ASCII escaped as `\uXXXX`), the bytes KoboldCpp and
 * text-generation-webui put on the wire.
 */

/** `json.dumps(value)` for JSON-compatible values. */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${pythonString(k)}: ${pythonJson(v)}`)
      .join(", ")}}`;
  }
  if (typeof value === "string") return pythonString(value);
  return JSON.stringify(value);
}

function pythonString(text: string): string {
  return JSON.stringify(text).replace(
    /[\u0080-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
