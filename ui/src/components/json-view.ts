/**
 * JSON, pretty-printed and collapsible: each object and array is a `<details>` (open for the first
 * levels), each leaf its value coloured by type. Long strings keep their line breaks.
 */
import { html } from "htm/preact";
import type { VNode } from "preact";

/** How many levels are open at first. */
const OPEN_LEVELS = 4;

function leaf(value: unknown): VNode {
  if (value === null) return html`<span class="json-null">null</span>`;
  if (typeof value === "string") return html`<span class="json-string">${JSON.stringify(value)}</span>`;
  if (typeof value === "number") return html`<span class="json-number">${String(value)}</span>`;
  if (typeof value === "boolean") return html`<span class="json-bool">${String(value)}</span>`;
  return html`<span>${JSON.stringify(value) ?? "undefined"}</span>`;
}

function sizeText(count: number, isArray: boolean): string {
  const noun = isArray ? "item" : "key";
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function node(name: string | null, value: unknown, depth: number): VNode {
  const label = name === null ? null : html`<span class="json-key">${name}</span>: `;
  if (value === null || typeof value !== "object") return html`<div class="json-line">${label}${leaf(value)}</div>`;
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((item, index): [string, unknown] => [String(index), item])
    : Object.entries(value as Record<string, unknown>);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return html`<div class="json-line">${label}${open}${close}</div>`;
  return html`<details class="json-node" open=${depth < OPEN_LEVELS}>
    <summary>
      ${label}${open}<span class="json-size">${sizeText(entries.length, Array.isArray(value))}</span>${close}
    </summary>
    <div class="json-children">
      ${entries.map(([key, item]) => node(Array.isArray(value) ? null : JSON.stringify(key), item, depth + 1))}
    </div>
  </details>`;
}

/** A JSON value as a collapsible tree (class `json-view`). */
export function JsonView({ value }: { value: unknown }): VNode {
  return html`<div class="json-view">${node(null, value, 0)}</div>`;
}
