/** A copy of an object without some of its keys: the tests' way to drop a field (a `usage`, a time, an id). */

/**
 * A shallow copy of `value`'s own enumerable string-keyed properties, except `keys`.
 * @param value the object to copy (not changed)
 * @param keys the keys left out
 */
export function omit<T extends object, K extends keyof T>(value: T, ...keys: readonly K[]): Omit<T, K> {
  const left = new Set<PropertyKey>(keys);
  return Object.fromEntries(Object.entries(value).filter(([key]) => !left.has(key))) as Omit<T, K>;
}
