/**
 * The worker thread behind the blocking forms: runs each request with the
 * async client it describes (cached, so connections and the database stay
 * open between calls) and answers with the LLMResponse.
 */
import { runAsWorker } from "synckit";
import { RelayClient } from "./client.js";
import type { SyncRequest } from "./sync-call.js";
import type { LLMClient, LLMResponse } from "./types.js";

/** The environment of the call being run (the caller's, sent with each request). */
let currentEnv: Record<string, string | undefined> = process.env;
const clients = new Map<string, LLMClient>();

function clientFor(request: SyncRequest): LLMClient {
  const key = JSON.stringify(request.client);
  let client = clients.get(key);
  if (!client) {
    const spec = request.client ?? defaultSpec();
    // The env is read from the current request, so LLM_* changes between calls are seen.
    client = new RelayClient(spec, request.client, () => currentEnv);
    clients.set(key, client);
  }
  return client;
}

/** The default client's transport, as `defaultClient()` chooses it: `$LLM_RELAY_URL` over HTTP, else in-process. */
function defaultSpec(): NonNullable<SyncRequest["client"]> {
  return currentEnv.LLM_RELAY_URL ? { baseURL: currentEnv.LLM_RELAY_URL } : {};
}

runAsWorker(async (request: SyncRequest): Promise<LLMResponse> => {
  currentEnv = request.env;
  const client = clientFor(request);
  return request.method === "generateCompletion"
    ? client.generateCompletion(request.input as string, request.options)
    : client.generateCompletionWithMessages(request.input as never, request.options);
});
