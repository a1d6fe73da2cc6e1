/**
 * The check every inbound protocol makes before validating a request body: the body is a JSON object
 * (https://www.rfc-editor.org/rfc/rfc8259#section-4), not `null`, an array, a string or a number.
 */

/** Whether `value` is a JSON object (a non-null object that is not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
