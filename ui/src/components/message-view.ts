/**
 * A chat message in the page's neutral form ({@link UiMessage}): text as Markdown, reasoning in a
 * `<details>` closed by default, tool calls and tool results as collapsible blocks (arguments
 * pretty-printed when they are JSON), images shown only from `data:` URLs (a remote URL is a link).
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import type { UiMessage, UiPart } from "../../../src/browse/types.js";
import { isDataImage, Markdown } from "./markdown.js";

/** `text` pretty-printed when it is JSON, else as it is. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text) as unknown, null, 2);
  } catch {
    return text;
  }
}

function Part({ part }: { part: UiPart }): VNode {
  switch (part.type) {
    case "text":
      return html`<${Markdown} text=${part.text} />`;
    case "reasoning":
      return html`<details class="reasoning">
        <summary>Reasoning <span class="muted">(${part.text.length.toLocaleString("en-US")} characters)</span></summary>
        <div class="reasoning-text">${part.text}</div>
      </details>`;
    case "tool_call":
      return html`<details class="tool-call" open>
        <summary>
          Tool call <code>${part.name}</code>${part.id ? html` <span class="muted">${part.id}</span>` : null}
        </summary>
        <pre class="code">${prettyJson(part.arguments)}</pre>
      </details>`;
    case "tool_result":
      return html`<details class="tool-result" open>
        <summary>
          Tool
          result${part.name ? html` <code>${part.name}</code>` : null}${part.toolCallId ? html` <span class="muted">for ${part.toolCallId}</span>` : null}
        </summary>
        <pre class="code">${prettyJson(part.content)}</pre>
      </details>`;
    case "image":
      return isDataImage(part.url)
        ? html`<figure class="image"><img src=${part.url} alt="image in the request" /></figure>`
        : html`<p class="image-link">
            <a href=${part.url} rel="noopener noreferrer" target="_blank">image: ${part.url}</a>
          </p>`;
  }
}

/** One message: its role, then its parts (class `message role-<role>`). */
export function MessageView({ message }: { message: UiMessage }): VNode {
  return html`<div class=${`message role-${message.role}`}>
    <div class="role">${message.role}</div>
    <div class="parts">${message.parts.map((part) => html`<${Part} part=${part} />`)}</div>
  </div>`;
}
