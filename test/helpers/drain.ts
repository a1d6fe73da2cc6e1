/** Reading a stream to its end when only its end matters (the record, the settled response). */

/**
 * Reads `items` to the end, discarding what it yields.
 * @returns how many items it yielded
 * @throws whatever the iteration throws
 */
export async function drain(items: AsyncIterable<unknown>): Promise<number> {
  const iterator = items[Symbol.asyncIterator]();
  let count = 0;
  while (!(await iterator.next()).done) count++;
  return count;
}
