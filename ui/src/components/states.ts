/** What a page shows while it loads and when its load failed. */
import { html } from "htm/preact";
import type { VNode } from "preact";

/** "Loading…" (class `loading`). */
export function Loading(): VNode {
  return html`<p class="loading">Loading…</p>`;
}

/** A failure, in the page (class `error-box`, role `alert`). */
export function ErrorBox({ message }: { message: string }): VNode {
  return html`<div class="error-box" role="alert"><strong>Could not load:</strong> ${message}</div>`;
}
