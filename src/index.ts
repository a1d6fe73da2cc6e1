/**
 * llm-relay as a library: chat completions from code, in-process through
 * the proxy's router, providers and recorder (every call lands in logs.db),
 * or over HTTP to a running llm-relay. See the README's "Library API".
 *
 * @example
 * import { generateCompletion } from "llm-relay";
 * const answer = await generateCompletion("Hello", { model: "echo" });
 * if (answer.success) console.log(answer.content, answer.tokensUsed, answer.responseTime);
 */
export { createClient } from "./library/client.js";
export {
  closeDefaultClient,
  generateCompletion,
  generateCompletionSync,
  generateCompletionWithMessages,
  generateCompletionWithMessagesSync,
  streamCompletion,
} from "./library/default-client.js";
export { DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE } from "./library/request-options.js";
export { OLLAMA_DEFAULTS, isOllamaDeployment } from "./library/ollama-defaults.js";
export type {
  ChatMessage,
  ClientOptions,
  CompletionOptions,
  CompletionStream,
  LibraryRole,
  LLMClient,
  LLMResponse,
  SyncCompletionOptions,
} from "./library/types.js";
export type { RelayConfig } from "./config/load.js";
export type { Deployment } from "./config/schema.js";
export { isProviderModel, lookupModel } from "./catalog/index.js";
export type { CatalogModel, ProviderModel, RoutableModel } from "./catalog/index.js";
export { closeTokenUsageStores, trackTokenUsage } from "./tenancy/track-token-usage.js";
export type { TrackTokenUsageOptions, TrackTokenUsageResult } from "./tenancy/track-token-usage.js";
export type { TenancyStore } from "./tenancy/store.js";
export type { TokenType, UsageEvent, UsageOperation, UsageRow } from "./tenancy/types.js";
export {
  envelopeErrorSchema,
  errorEnvelopeSchema,
  healthEnvelopeSchema,
  keysEnvelopeSchema,
  usageRecordEnvelopeSchema,
  usageSummaryEnvelopeSchema,
} from "./server/envelope-schemas.js";
