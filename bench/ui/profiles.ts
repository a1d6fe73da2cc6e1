/**
 * Who talks to whom in the synthetic traffic: 8 models on 4 provider kinds
 * (with their prices), 5 inbound protocols with the clients that speak them,
 * and 3 tenants. A conversation keeps one profile for all its turns.
 */
import { pick, weighted, type Random } from "./random.js";

/** A model of the synthetic traffic. */
export interface BenchModel {
  name: string;
  /** Provider kind (`llm_relay_exchanges.provider`). */
  provider: string;
  /** The model name the upstream reports (`responses.resolved_model`). */
  resolved: string;
  /** USD per million input / output tokens; 0 for local models. */
  inputPerMtok: number;
  outputPerMtok: number;
  /** True when its answers carry reasoning text. */
  reasons: boolean;
  /** Share of the conversations (relative weight). */
  weight: number;
}

/** The 8 models, on 4 provider kinds. */
export const MODELS: readonly BenchModel[] = [
  {
    name: "gpt-4o-mini",
    provider: "openai-compatible",
    resolved: "gpt-4o-mini-2024-07-18",
    inputPerMtok: 0.15,
    outputPerMtok: 0.6,
    reasons: false,
    weight: 25,
  },
  {
    name: "gpt-4o",
    provider: "openai-compatible",
    resolved: "gpt-4o-2024-11-20",
    inputPerMtok: 2.5,
    outputPerMtok: 10,
    reasons: false,
    weight: 15,
  },
  {
    name: "o3-mini",
    provider: "openai-compatible",
    resolved: "o3-mini-2025-01-31",
    inputPerMtok: 1.1,
    outputPerMtok: 4.4,
    reasons: true,
    weight: 5,
  },
  {
    name: "claude-sonnet-4-5",
    provider: "anthropic",
    resolved: "claude-sonnet-4-5-20250929",
    inputPerMtok: 3,
    outputPerMtok: 15,
    reasons: false,
    weight: 20,
  },
  {
    name: "claude-haiku-4-5",
    provider: "anthropic",
    resolved: "claude-haiku-4-5-20251001",
    inputPerMtok: 1,
    outputPerMtok: 5,
    reasons: false,
    weight: 10,
  },
  {
    name: "llama3.1:8b",
    provider: "ollama",
    resolved: "llama3.1:8b",
    inputPerMtok: 0,
    outputPerMtok: 0,
    reasons: false,
    weight: 10,
  },
  {
    name: "qwen2.5-coder:14b",
    provider: "ollama",
    resolved: "qwen2.5-coder:14b",
    inputPerMtok: 0,
    outputPerMtok: 0,
    reasons: false,
    weight: 10,
  },
  {
    name: "mistral-7b-instruct",
    provider: "llamacpp",
    resolved: "mistral-7b-instruct-v0.3.Q4_K_M.gguf",
    inputPerMtok: 0,
    outputPerMtok: 0,
    reasons: false,
    weight: 5,
  },
];

/** An inbound protocol with its share and the User-Agents of the clients that speak it. */
export interface BenchProtocol {
  name: "chat" | "messages" | "responses" | "ollama" | "gemini";
  weight: number;
  clients: readonly string[];
}

/** The 5 inbound protocols. */
export const PROTOCOLS: readonly BenchProtocol[] = [
  { name: "chat", weight: 45, clients: ["OpenAI/Python 1.99.0", "aider/0.86.1", "curl/8.5.0", "continue/1.2.0"] },
  { name: "messages", weight: 20, clients: ["Anthropic/Python 0.69.0", "claude-cli/2.0.14 (external, cli)"] },
  { name: "responses", weight: 15, clients: ["OpenAI/JS 6.2.0", "codex_cli_rs/0.46.0"] },
  { name: "ollama", weight: 12, clients: ["ollama-python/0.6.0", "open-webui/0.6.32"] },
  { name: "gemini", weight: 8, clients: ["google-genai-sdk/1.30.0 gl-python/3.12.3"] },
];

/** A tenant and how many API keys it has. */
export interface BenchTenant {
  id: string;
  keys: number;
  weight: number;
}

/** The 3 tenants (5 keys in all). */
export const TENANTS: readonly BenchTenant[] = [
  { id: "acme", keys: 2, weight: 5 },
  { id: "globex", keys: 2, weight: 3 },
  { id: "initech", keys: 1, weight: 2 },
];

/** The fixed traits of one conversation. */
export interface ConversationProfile {
  model: BenchModel;
  protocol: BenchProtocol;
  client: string;
  tenant: BenchTenant;
  /** Index of the key among the tenant's keys. */
  keyIndex: number;
  /** Whether the client streams. */
  stream: boolean;
}

/** Draws a conversation's profile. */
export function drawProfile(random: Random): ConversationProfile {
  const model =
    MODELS[
      weighted(
        random,
        MODELS.map((m) => m.weight),
      )
    ]!;
  const protocol =
    PROTOCOLS[
      weighted(
        random,
        PROTOCOLS.map((p) => p.weight),
      )
    ]!;
  const tenant =
    TENANTS[
      weighted(
        random,
        TENANTS.map((t) => t.weight),
      )
    ]!;
  return {
    model,
    protocol,
    client: pick(random, protocol.clients),
    tenant,
    keyIndex: Math.floor(random() * tenant.keys),
    stream: random() < 0.7,
  };
}
