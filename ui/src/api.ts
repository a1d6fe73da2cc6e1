/**
 * The page's one way to the server: `GET /ui/api/*` JSON in the internal endpoints' envelope
 * (`{success, message, data, metadata, error}`, src/server/envelope.ts). A 401 (no or wrong login cookie)
 * sends the browser to `/ui/login`; any other failure is thrown as an {@link ApiError} the page shows.
 *
 * The shapes of `/ui/api/budgets`, `/ui/api/bench/runs`, `/ui/api/live` and `/ui/api/info` are the
 * server's (src/server/ui/api-types.ts), re-exported here for the pages.
 */

/** A failed API call: the HTTP status and the envelope's message (or the status text). */
export class ApiError extends Error {
  constructor(
    /** HTTP status (0: the request never got an answer). */
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The envelope of every `/ui/api/*` answer. */
interface Envelope<T> {
  success: boolean;
  message: string;
  data: T | null;
  error: { type: string; code: string | null; message: string } | null;
}

/** Where the browser goes when the server answers 401. */
export const LOGIN_PATH = "/ui/login";

/**
 * `GET /ui/api/<path>?<query>` and the envelope's `data`.
 * @param path the path after `/ui/api/`, e.g. `conversations` or `exchanges/01j…` (each segment already encoded)
 * @param query the query parameters; empty strings and undefined are left out
 * @throws ApiError on a network failure, a non-2xx answer (its envelope's message) or an envelope with `success: false`
 */
export async function apiGet<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== "") params.set(name, value);
  const search = params.toString();
  let response: Response;
  try {
    response = await fetch(`/ui/api/${path}${search ? `?${search}` : ""}`, {
      headers: { accept: "application/json" },
      credentials: "same-origin",
    });
  } catch (error) {
    throw new ApiError(0, `The proxy did not answer: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (response.status === 401) {
    location.href = LOGIN_PATH;
    throw new ApiError(401, "Not logged in: going to the login page");
  }
  let body: Envelope<T> | null;
  try {
    body = (await response.json()) as Envelope<T>;
  } catch {
    body = null;
  }
  if (!response.ok || !body || !body.success) {
    const message = body?.error?.message ?? body?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message);
  }
  return body.data as T;
}

export type { BenchRunView, BudgetView, LiveExchange, LiveSnapshot, UiInfo } from "../../src/server/ui/api-types.js";
