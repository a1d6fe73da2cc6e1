/**
 * Markdown of a message, safe to show: `marked` renders it with raw HTML **escaped** (a `<script>` in an
 * answer shows as text), images only from `data:` URLs (any other image is a link, never loaded: the page
 * fetches nothing outside the proxy), then `DOMPurify.sanitize` cleans the result as a DOM fragment that
 * replaces the container's children (no `innerHTML` of unsanitised text; no `style` attributes, which the
 * page's CSP forbids).
 */
import DOMPurify from "dompurify";
import { Marked, type Tokens } from "marked";
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch,
  );
}

/** True for a `data:image/…` URL (the only images the page loads). */
export function isDataImage(url: string): boolean {
  return /^data:image\//i.test(url.trim());
}

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    image({ href, text }: Tokens.Image): string {
      if (isDataImage(href)) return `<img src="${escapeHtml(href)}" alt="${escapeHtml(text)}">`;
      return `<a href="${escapeHtml(href)}" rel="noopener noreferrer" target="_blank">image: ${escapeHtml(text || href)}</a>`;
    },
  },
});

/** Turns what would fetch from elsewhere into links, and opens links in a new tab. */
function neutralise(fragment: DocumentFragment): void {
  for (const image of Array.from(fragment.querySelectorAll("img"))) {
    const src = image.getAttribute("src") ?? "";
    if (isDataImage(src)) continue;
    const link = document.createElement("a");
    link.href = src;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    link.textContent = `image: ${src}`;
    image.replaceWith(link);
  }
  for (const anchor of Array.from(fragment.querySelectorAll("a"))) {
    anchor.rel = "noopener noreferrer";
    anchor.target = "_blank";
  }
}

/**
 * Markdown text as a sanitised DOM fragment.
 * @param text the Markdown (a message's text)
 */
export function renderMarkdown(text: string): DocumentFragment {
  const rendered = marked.parse(text) as string;
  const fragment = DOMPurify.sanitize(rendered, {
    RETURN_DOM_FRAGMENT: true,
    FORBID_TAGS: [
      "style",
      "form",
      "input",
      "button",
      "textarea",
      "select",
      "iframe",
      "video",
      "audio",
      "source",
      "picture",
      "svg",
      "math",
    ],
    FORBID_ATTR: ["style", "srcset", "background", "poster"],
  });
  neutralise(fragment);
  return fragment;
}

/** A message's text as Markdown (class `markdown`). */
export function Markdown({ text }: { text: string }): VNode {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    ref.current?.replaceChildren(renderMarkdown(text));
  }, [text]);
  return html`<div class="markdown" ref=${ref}></div>`;
}
