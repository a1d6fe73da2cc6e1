/**
 * Removes secrets from a request body before it is recorded as
 * `prompt_json`: keys such as `api_key` or `authorization`, at any depth.
 */

const SECRET_KEY =
  /^(api[-_]?key|x[-_]api[-_]key|authorization|proxy[-_]authorization|password|secret|client[-_]secret|access[-_]token|refresh[-_]token|bearer)$/i;

/**
 * A copy of `value` without the secret keys (objects and arrays are
 * copied only where something was removed; a body without secrets is
 * returned as is, after a walk that allocates nothing).
 */
export function redactSecrets<T>(value: T): T {
  return hasSecret(value) ? (copyWithout(value) as T) : value;
}

/** True when a secret key occurs at any depth. */
function hasSecret(value: unknown): boolean {
  if (Array.isArray(value)) {
    for (const item of value) if (hasSecret(item)) return true;
    return false;
  }
  if (value && typeof value === "object") {
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (SECRET_KEY.test(key) || hasSecret((value as Record<string, unknown>)[key])) return true;
    }
  }
  return false;
}

function copyWithout(value: unknown): unknown {
  if (Array.isArray(value)) return (value as unknown[]).map((item) => (hasSecret(item) ? copyWithout(item) : item));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (!SECRET_KEY.test(key)) out[key] = hasSecret(item) ? copyWithout(item) : item;
    }
    return out;
  }
  return value;
}
