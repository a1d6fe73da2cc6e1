/**
 * Reads the captured raw HTTP exchanges of real servers in
 * ../shared/fixtures/protocols/ (sections headed `===== TITLE =====`), so
 * the loopback fakes replay their exact payloads and headers.
 */
import fs from "node:fs";

/** One captured exchange, as the capture file holds it. */
export interface CapturedSection {
  /** The text after the `=====` heading, up to the next heading. */
  text: string;
  /** The header lines (`Name: value`, CR removed) after the status line, when the section has one. */
  headers: [string, string][];
  /** The lines after the headers (or the whole section when it has no status line). */
  bodyLines: string[];
}

/** The capture file `name` (e.g. `llama-server.txt`), split into its sections by title. */
export function readCapture(name: string): Map<string, CapturedSection> {
  const text = fs.readFileSync(new URL(`../../../shared/fixtures/protocols/${name}`, import.meta.url), "utf8");
  const sections = new Map<string, CapturedSection>();
  const parts = text.split(/^===== (.+?) =====\n/m);
  for (let i = 1; i + 1 < parts.length; i += 2) sections.set(parts[i]!, parseSection(parts[i + 1]!));
  return sections;
}

/** The section whose title starts with `prefix` (fails loudly when the capture has none). */
export function section(capture: Map<string, CapturedSection>, prefix: string): CapturedSection {
  for (const [title, value] of capture) if (title.startsWith(prefix)) return value;
  throw new Error(`no captured section starting with '${prefix}'`);
}

/** The first line of a section's body that starts with `start` (e.g. `{` or `data: `). */
export function firstLine(captured: CapturedSection, start: string): string {
  const line = captured.bodyLines.find((l) => l.startsWith(start));
  if (line === undefined) throw new Error(`no line starting with '${start}' in the captured section`);
  return line;
}

function parseSection(text: string): CapturedSection {
  const lines = text.split("\n");
  if (!/^HTTP\/1\.[01] \d{3}/.test(lines[0] ?? "")) return { text, headers: [], bodyLines: lines };
  const headers: [string, string][] = [];
  let i = 1;
  for (; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line === "") break;
    const colon = line.indexOf(":");
    headers.push([line.slice(0, colon), line.slice(colon + 1).replace(/^ /, "")]);
  }
  return { text, headers, bodyLines: lines.slice(i + 1) };
}
