/**
 * Opaque keyset cursors of the browser's lists: the last row's sort key (a few strings) as
 * base64url JSON (RFC 4648 §5). Nothing about them is meant to be read by the client.
 */
import { BrowseInputError } from "./errors.js";

/** Most characters of a cursor this module decodes (keys are ULIDs and small tags). */
const MAX_CURSOR_CHARS = 512;

/** The cursor of a page that ended at `key` (e.g. `[lastResponseId]`, or `["1", id]` for a second phase). */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
}

/**
 * The key `cursor` carries.
 * @param parts how many strings it must hold
 * @throws BrowseInputError when it is not a cursor this module made (bad base64url, JSON, shape or length)
 */
export function decodeCursor(cursor: string, parts: number): string[] {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw new BrowseInputError("malformed cursor");
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new BrowseInputError("malformed cursor");
  }
  if (!Array.isArray(key) || key.length !== parts || !key.every((k) => typeof k === "string" && k.length > 0))
    throw new BrowseInputError("malformed cursor");
  return key as string[];
}
