/**
 * Model name → deployment. Resolution order: alias, exact model name,
 * longest matching `prefix/*` pattern (the rest of the name is the
 * upstream model), then `default_model`. The record always keeps the
 * name the client asked for.
 *
 * The router also holds the routing state of a running proxy (or library
 * client): each deployment's health (in flight, TTFT average, cooldown)
 * and the balancer that picks among a model's deployments; the
 * dispatcher (`dispatcher.ts`) uses both for every attempt.
 */
import { performance } from "node:perf_hooks";
import {
  asModelGroup,
  DEFAULT_ROUTING,
  type Deployment,
  type ModelGroup,
  type ModelsInput,
  type RoutingSettings,
} from "../config/schema.js";
import type { RelayConfig } from "../config/load.js";
import { modelNotFound } from "../protocol/errors.js";
import { Balancer, type PickConstraints } from "./balancer.js";
import { DeploymentHealth } from "./deployment-health.js";

/** Where one request (attempt) goes. */
export interface Route {
  /** The config key that matched (model name or pattern). */
  deploymentName: string;
  /** The matched model's deployments and routing settings. */
  group: ModelGroup;
  /** The deployment chosen for this attempt (the first of the group until the balancer picks one). */
  deployment: Deployment;
  /** Index of `deployment` in `group.deployments`. */
  index: number;
  /** The model name to send upstream. */
  upstreamModel: string;
}

/** What the router is built from: the models, aliases and default model, and (optionally) the router-wide settings. */
export type RouterConfig = Pick<RelayConfig, "aliases" | "defaultModel"> & {
  models: ModelsInput;
  routing?: RoutingSettings;
};

/**
 * The name of a route's deployment in records and headers: the config key,
 * with `#n` (1-based) when the model has several deployments.
 */
export function deploymentLabel(route: Route): string {
  return route.group.deployments.length === 1 ? route.deploymentName : `${route.deploymentName}#${route.index + 1}`;
}

/** Resolves model names against the configured deployments, and picks among a model's deployments. */
export class Router {
  private readonly exact = new Map<string, ModelGroup>();
  private readonly patterns: { prefix: string; name: string; group: ModelGroup }[] = [];
  /** Retry, backoff, cooldown settings. */
  readonly settings: RoutingSettings;
  /** Health of every deployment (in flight, TTFT, cooldown). */
  readonly health: DeploymentHealth;
  private readonly balancer: Balancer;

  /**
   * @param config models (groups or bare deployments), aliases, default model and routing settings
   * @param random a source of uniform numbers in [0, 1) for the balancer (tests may seed one)
   */
  constructor(
    private readonly config: RouterConfig,
    random: () => number = Math.random,
  ) {
    this.settings = config.routing ?? DEFAULT_ROUTING;
    for (const [name, entry] of Object.entries(config.models)) {
      const group = asModelGroup(name, entry, this.settings);
      if (name.endsWith("/*")) this.patterns.push({ prefix: name.slice(0, -1), name, group });
      else this.exact.set(name, group);
    }
    this.patterns.sort((a, b) => b.prefix.length - a.prefix.length);
    this.health = new DeploymentHealth(this.settings);
    this.balancer = new Balancer(this.health, random);
  }

  /**
   * Finds the model for `model` (its first deployment; see {@link pick}).
   * @throws RelayError 404 `model_not_found` when nothing matches and there is no default model
   */
  resolve(model: string): Route {
    const route = this.match(model) ?? (this.config.defaultModel ? this.match(this.config.defaultModel) : null);
    if (!route) throw modelNotFound(model);
    return route;
  }

  /** Finds a fallback model by name (alias, exact, pattern; never `default_model`), or null. */
  resolveFallback(model: string): Route | null {
    return this.match(model);
  }

  /**
   * The route to the deployment the model's strategy picks for the next
   * attempt, or null when every deployment is blocked for this request.
   * @param now `performance.now()`, in ms
   */
  pick(route: Route, constraints?: PickConstraints, now: number = performance.now()): Route | null {
    const index = this.balancer.pick(route.group, now, constraints);
    if (index < 0) return null;
    return this.routeTo(route, index);
  }

  /**
   * Every route a request resolved to `route` may take: each deployment of
   * its model, then each deployment of its `fallbacks` and
   * `context_window_fallbacks` (resolved as the dispatcher resolves them,
   * never through `default_model`), each route once.
   */
  reachableRoutes(route: Route): Route[] {
    const out: Route[] = [];
    const seen = new Set<string>();
    const addAll = (from: Route) => {
      for (let index = 0; index < from.group.deployments.length; index++) {
        const next = this.routeTo(from, index);
        const key = `${next.deploymentName}#${index}:${next.upstreamModel}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(next);
      }
    };
    addAll(route);
    for (const name of [...route.group.fallbacks, ...route.group.contextWindowFallbacks]) {
      const fallback = this.resolveFallback(name);
      if (fallback) addAll(fallback);
    }
    return out;
  }

  /** `route` moved to the group's deployment at `index` (a pattern keeps the requested upstream model). */
  private routeTo(route: Route, index: number): Route {
    if (index === route.index) return route;
    const deployment = route.group.deployments[index]!;
    const pattern = route.deploymentName.endsWith("/*");
    return {
      ...route,
      deployment,
      index,
      upstreamModel: pattern ? route.upstreamModel : (deployment.model ?? route.deploymentName),
    };
  }

  /** The names clients may use: exact model names and aliases (patterns are listed as configured). */
  listModels(): { id: string; provider: string }[] {
    const out: { id: string; provider: string }[] = [];
    for (const [name, group] of this.exact) out.push({ id: name, provider: group.deployments[0]!.provider });
    for (const [alias, target] of Object.entries(this.config.aliases)) {
      const route = this.match(target);
      if (route) out.push({ id: alias, provider: route.deployment.provider });
    }
    for (const pattern of this.patterns)
      out.push({ id: pattern.name, provider: pattern.group.deployments[0]!.provider });
    return out;
  }

  private match(requested: string, depth = 0): Route | null {
    const alias = this.config.aliases[requested];
    if (alias !== undefined && depth < 8) return this.match(alias, depth + 1);
    const exact = this.exact.get(requested);
    if (exact) {
      const deployment = exact.deployments[0]!;
      return {
        deploymentName: requested,
        group: exact,
        deployment,
        index: 0,
        upstreamModel: deployment.model ?? requested,
      };
    }
    for (const pattern of this.patterns) {
      if (requested.startsWith(pattern.prefix) && requested.length > pattern.prefix.length) {
        return {
          deploymentName: pattern.name,
          group: pattern.group,
          deployment: pattern.group.deployments[0]!,
          index: 0,
          upstreamModel: requested.slice(pattern.prefix.length),
        };
      }
    }
    return null;
  }
}
