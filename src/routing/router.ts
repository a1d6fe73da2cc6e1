/**
 * Model name → deployment. Resolution order: alias, exact model name,
 * longest matching `prefix/*` pattern (the rest of the name is the
 * upstream model), then `default_model`. The record always keeps the
 * name the client asked for.
 */
import { asModelGroup, type Deployment, type ModelGroup, type ModelsInput } from "../config/schema.js";
import type { RelayConfig } from "../config/load.js";
import { modelNotFound } from "../protocol/errors.js";

/** Where one request goes. */
export interface Route {
  /** The config key that matched (model name or pattern). */
  deploymentName: string;
  /** The matched model's deployments and routing settings. */
  group: ModelGroup;
  /** The deployment chosen for this attempt (the first of the group until a balancer picks one). */
  deployment: Deployment;
  /** The model name to send upstream. */
  upstreamModel: string;
}

/** Resolves model names against the configured deployments. */
export class Router {
  private readonly exact = new Map<string, ModelGroup>();
  private readonly patterns: { prefix: string; name: string; group: ModelGroup }[] = [];

  constructor(private readonly config: Pick<RelayConfig, "aliases" | "defaultModel"> & { models: ModelsInput }) {
    for (const [name, entry] of Object.entries(config.models)) {
      const group = asModelGroup(name, entry);
      if (name.endsWith("/*")) this.patterns.push({ prefix: name.slice(0, -1), name, group });
      else this.exact.set(name, group);
    }
    this.patterns.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /**
   * Finds the deployment for `model`.
   * @throws RelayError 404 `model_not_found` when nothing matches and there is no default model
   */
  resolve(model: string): Route {
    const route = this.match(model) ?? (this.config.defaultModel ? this.match(this.config.defaultModel) : null);
    if (!route) throw modelNotFound(model);
    return route;
  }

  /** The names clients may use: exact model names and aliases (patterns are listed as configured). */
  listModels(): { id: string; provider: string }[] {
    const out: { id: string; provider: string }[] = [];
    for (const [name, group] of this.exact) out.push({ id: name, provider: group.deployments[0]!.provider });
    for (const [alias, target] of Object.entries(this.config.aliases)) {
      const route = this.match(target);
      if (route) out.push({ id: alias, provider: route.deployment.provider });
    }
    for (const pattern of this.patterns) out.push({ id: pattern.name, provider: pattern.group.deployments[0]!.provider });
    return out;
  }

  private match(requested: string, depth = 0): Route | null {
    const alias = this.config.aliases[requested];
    if (alias !== undefined && depth < 8) return this.match(alias, depth + 1);
    const exact = this.exact.get(requested);
    if (exact) {
      const deployment = exact.deployments[0]!;
      return { deploymentName: requested, group: exact, deployment, upstreamModel: deployment.model ?? requested };
    }
    for (const pattern of this.patterns) {
      if (requested.startsWith(pattern.prefix) && requested.length > pattern.prefix.length) {
        return { deploymentName: pattern.name, group: pattern.group, deployment: pattern.group.deployments[0]!, upstreamModel: requested.slice(pattern.prefix.length) };
      }
    }
    return null;
  }
}
