/**
 * One cached provider per deployment, built by the factory of its kind's
 * module (`src/providers/modules.ts`).
 */
import type { Deployment } from "../config/schema.js";
import { providerModule } from "./modules.js";
import type { ChatProvider, ProviderContext } from "./types.js";

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
      provider = providerModule(deployment.provider).factory(deployment, this.context);
      this.providers.set(deployment, provider);
    }
    return provider;
  }

  /** Closes every provider's connections. */
  async close(): Promise<void> {
    await Promise.all([...this.providers.values()].map((provider) => provider.close?.() ?? Promise.resolve()));
    this.providers.clear();
  }
}
