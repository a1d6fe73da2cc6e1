/**
 * JSON as Hugging Face chat templates write it with `tojson`: Python's
 * `json.dumps(value, ensure_ascii=False)` (transformers'
 * `chat_template_utils`), i.e. `", "` and `": "` separators, keys in their
 * order, non-ASCII characters as they are.
 */

/** `tojson` of a JSON-compatible value (`undefined` members are left out, as `JSON.stringify` does). */
export function templateJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => templateJson(item ?? null)).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => `${JSON.stringify(key)}: ${templateJson(member)}`);
    return `{${members.join(", ")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
