/**
 * Vitest's asymmetric matchers (`expect.any`, `expect.stringMatching`, …), typed `unknown` rather
 * than `any`, so an object literal holding one stays typed. They match exactly as vitest's do.
 * https://vitest.dev/api/expect.html#expect-any
 */
import { expect } from "vitest";

/** Matchers to place inside the expected value of `toEqual`/`toMatchObject`/`toHaveBeenCalledWith`. */
export const match = {
  /** Anything but null and undefined. */
  anything: (): unknown => expect.anything(),
  /** A value made by `type` (`Number`, `String`, a class), as `expect.any`. */
  any: (type: unknown): unknown => expect.any(type),
  /** A string containing `text`. */
  stringContaining: (text: string): unknown => expect.stringContaining(text),
  /** A string matching `pattern` (a string: a substring). */
  stringMatching: (pattern: string | RegExp): unknown => expect.stringMatching(pattern),
  /** An object with at least these properties, compared recursively. */
  objectContaining: (shape: Record<string, unknown>): unknown => expect.objectContaining(shape),
};
