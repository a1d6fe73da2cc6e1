/**
 * Provider kind → factory, and one cached provider per deployment.
 */
import type { Deployment, ProviderKind } from "../config/schema.js";
import { createAnthropicProvider } from "./anthropic/anthropic-provider.js";
import { createEchoProvider } from "./echo/echo-provider.js";
import { createKoboldCppProvider } from "./koboldcpp/koboldcpp-provider.js";
import { createLlamaCppProvider } from "./llamacpp/llamacpp-provider.js";
import { createLmStudioProvider } from "./lmstudio/lmstudio-provider.js";
import { createLocalProvider } from "./local/local-provider.js";
import { createOllamaProvider } from "./ollama/ollama-provider.js";
import { createOpenAICompatibleProvider } from "./openai-compatible/openai-compatible-provider.js";
import { createVllmProvider } from "./vllm/vllm-provider.js";
import { createWebuiProvider } from "./webui/webui-provider.js";
import type { ChatProvider, ProviderContext, ProviderFactory } from "./types.js";

const FACTORIES: Record<ProviderKind, ProviderFactory> = {
  echo: createEchoProvider,
  "openai-compatible": createOpenAICompatibleProvider,
  anthropic: createAnthropicProvider,
  ollama: createOllamaProvider,
  llamacpp: createLlamaCppProvider,
  koboldcpp: createKoboldCppProvider,
  webui: createWebuiProvider,
  lmstudio: createLmStudioProvider,
  vllm: createVllmProvider,
  local: createLocalProvider,
};

/** Holds one provider instance per deployment, created on first use. */
export class ProviderRegistry {
  private readonly providers = new Map<Deployment, ChatProvider>();

  constructor(private readonly context: ProviderContext) {}

  /**
   * The provider serving `deployment`.
   * @throws RelayError when the deployment is unusable (e.g. a missing `base_url`, or `node-llama-cpp` not installed)
   */
  get(deployment: Deployment): ChatProvider {
    let provider = this.providers.get(deployment);
    if (!provider) {
      provider = FACTORIES[deployment.provider](deployment, this.context);
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
