/**
 * Removes secrets from a request body before it is recorded as
 * `prompt_json`: keys such as `api_key` or `authorization`, at any depth.
 */

const SECRET_KEY = /^(api[-_]?key|x[-_]api[-_]key|authorization|proxy[-_]authorization|password|secret|client[-_]secret|access[-_]token|refresh[-_]token|bearer)$/i;

/**
 * A copy of `value` without the secret keys (objects and arrays are
 * copied only where something was removed).
 */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const next = redactSecrets(item);
      if (next !== item) changed = true;
      return next;
    });
    return (changed ? out : value) as T;
  }
  if (value && typeof value === "object") {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_KEY.test(key)) {
        changed = true;
        continue;
      }
      const next = redactSecrets(item);
      if (next !== item) changed = true;
      out[key] = next;
    }
    return (changed ? out : value) as T;
  }
  return value;
}
