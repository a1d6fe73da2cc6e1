/**
 * Parsers of command-line values for commander's `.option(…, parser)`:
 * each returns the value or throws commander's `InvalidArgumentError`,
 * which commander prints as `error: option '…' argument '…' is invalid. <message>`.
 */
import { InvalidArgumentError } from "commander";

/** An integer ≥ 1 (counts, limits, rates). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

/** An integer ≥ 0 (a port, a count where 0 means all). */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

/** Any integer (a seed). */
export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("expected an integer");
  return n;
}

/** A finite number (a temperature). */
export function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("expected a number");
  return n;
}

/** Model names separated by commas (blanks around them ignored); at least one. */
export function modelList(value: string): string[] {
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  if (names.length === 0) throw new InvalidArgumentError("expected model names separated by commas");
  return names;
}
