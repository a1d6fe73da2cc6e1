/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4):
 * every line must be a `# HELP`, a `# TYPE` or a sample
 * `name{label="value",…} value`; anything else fails the test.
 */
import { expect } from "vitest";

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition. */
export interface Exposition {
  samples: Sample[];
  /** Metric family name → type (counter, gauge, histogram, summary, untyped). */
  types: Map<string, string>;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+-?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses `text`, failing the test on any line that is not valid exposition format. */
export function parsePrometheusText(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# HELP ")) continue;
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      expect(type, line).toMatch(/^(counter|gauge|histogram|summary|untyped)$/);
      types.set(name!, type!);
      continue;
    }
    const match = SAMPLE.exec(line);
    expect(match, `not a Prometheus sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const [, key, value] of match![2]?.matchAll(LABEL) ?? []) labels[key!] = value!;
    const value = match![3] === "+Inf" ? Infinity : match![3] === "-Inf" ? -Infinity : Number(match![3]);
    expect(Number.isNaN(value) && match![3] !== "NaN", line).toBe(false);
    samples.push({ name: match![1]!, labels, value });
  }
  return { samples, types };
}

/** The value of the sample with this name whose labels include `labels` (0 when absent). */
export function sampleValue(exposition: Exposition, name: string, labels: Record<string, string>): number {
  const sample = exposition.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return sample?.value ?? 0;
}
