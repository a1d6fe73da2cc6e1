/**
 * Provider kind → factory, and one cached provider per deployment.
 */
import type { Deployment, ProviderKind } from "../config/schema.js";
import { createEchoProvider } from "./echo/echo-provider.js";
import { createOpenAICompatibleProvider } from "./openai-compatible/openai-compatible-provider.js";
import type { ChatProvider, ProviderFactory } from "./types.js";

const FACTORIES: Record<ProviderKind, ProviderFactory> = {
  echo: createEchoProvider,
  "openai-compatible": createOpenAICompatibleProvider,
};

/** Holds one provider instance per deployment, created on first use. */
export class ProviderRegistry {
  private readonly providers = new Map<Deployment, ChatProvider>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** The provider serving `deployment`. */
  get(deployment: Deployment): ChatProvider {
    let provider = this.providers.get(deployment);
    if (!provider) {
      provider = FACTORIES[deployment.provider](deployment, this.env);
      this.providers.set(deployment, provider);
    }
    return provider;
  }

  /** Closes every provider's connections. */
  async close(): Promise<void> {
    await Promise.all([...this.providers.values()].map((provider) => provider.close?.()));
    this.providers.clear();
  }
}
