/** A shell command with a button that copies it to the clipboard (e.g. `llm -c --cid <id> -d <path>`). */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useState } from "preact/hooks";

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command in a `<code>` and a Copy button; says "Copied" once the clipboard took it. */
export function CopyCommand({ command }: { command: string }): VNode {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = (): void => {
    navigator.clipboard.writeText(command).then(
      () => setState("copied"),
      () => setState("failed"),
    );
  };
  return html`<div class="copy-command">
    <code>${command}</code>
    <button type="button" onClick=${copy}>
      ${state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : "Copy"}
    </button>
  </div>`;
}
