/** A hook that loads one `/ui/api/*` answer and reloads it when its path or query changes. */
import { useEffect, useState } from "preact/hooks";
import { apiGet } from "./api.js";

/** The state of a load: `data` once it answered, `error` (a message) when it failed. */
export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

/**
 * Loads `GET /ui/api/<path>?<query>`; a later call with another path or query drops the earlier answer.
 * @param path null to load nothing (yet)
 */
export function useApi<T>(path: string | null, query: Record<string, string | undefined> = {}): Loaded<T> {
  const key = path === null ? "" : `${path}?${JSON.stringify(query)}`;
  const [state, setState] = useState<Loaded<T>>({ data: null, error: null, loading: path !== null });
  useEffect(() => {
    if (path === null) return;
    let current = true;
    setState((previous) => ({ data: previous.data, error: null, loading: true }));
    apiGet<T>(path, query).then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error: unknown) =>
        current &&
        setState({ data: null, error: error instanceof Error ? error.message : String(error), loading: false }),
    );
    return () => {
      current = false;
    };
    // The key stands for path and query.
  }, [key]);
  return state;
}
