/**
 * The hash router: every page is `#/<page>[/<id>][?<query>]`, so a page with its filters is a link
 * (`#/conversations?model=gpt-4o&status=error`). The query holds the filters and the page's cursor.
 */
import { useEffect, useState } from "preact/hooks";

/** The pages of the browser. */
export type PageName = "conversations" | "exchanges" | "usage" | "bench" | "live";

/** Where the hash points. */
export interface Route {
  page: PageName;
  /** The id after the page (`#/conversations/<id>`), or null for the list. */
  id: string | null;
  /** The hash's query (filters, cursor, options). */
  query: URLSearchParams;
}

const PAGES: readonly PageName[] = ["conversations", "exchanges", "usage", "bench", "live"];

/** Reads a hash (`#/exchanges/01j…?order=errors-first`); anything unknown is the Conversations list. */
export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, "");
  const mark = text.indexOf("?");
  const path = mark < 0 ? text : text.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? "" : text.slice(mark + 1));
  const [first, second] = path.split("/");
  const page = PAGES.find((name) => name === first) ?? "conversations";
  const id = second ? decodeURIComponent(second) : null;
  return { page, id, query };
}

/** The hash of a page, its id and its query (empty values left out). */
export function hrefFor(
  page: PageName,
  id: string | null = null,
  query: Record<string, string | undefined> = {},
): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== "") params.set(name, value);
  const search = params.toString();
  return `#/${page}${id === null ? "" : `/${encodeURIComponent(id)}`}${search ? `?${search}` : ""}`;
}

/** Goes to a hash (a new history entry). */
export function navigate(href: string): void {
  if (location.hash !== href) location.hash = href;
}

/** The current route, updated on every `hashchange`. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const changed = (): void => setRoute(parseHash(location.hash));
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

/** The query as a plain record (the last value of each name). */
export function queryRecord(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of query) out[name] = value;
  return out;
}
