// weft.v1.ServiceRoutes, weft.v1.ServicePolicy (a service's ResiliencePolicy and AuthorizationPolicy)
// and weft.v1.Telemetry: built from the config store.
// Config objects are few, so each change regenerates the whole type and the cache diffs by version.
import type { ConfigKind, ConfigObject, ConfigSource } from "./config-source";
import { contentVersion, type Generator } from "./generator";
import {
  type PushResource,
  policyResource,
  type ResourceType,
  routesResource,
  TYPE_POLICY,
  TYPE_ROUTES,
  TYPE_TELEMETRY,
  telemetryResource,
} from "./wire";

abstract class ConfigGenerator implements Generator {
  abstract readonly type: ResourceType;
  /** The kinds the type is built from. */
  abstract readonly kinds: readonly ConfigKind[];
  readonly source = "config";
  private generation = 0;
  private lastKey = "";

  constructor(protected readonly config: ConfigSource) {}

  protected abstract build(objects: ConfigObject[]): Map<string, PushResource>;

  all(): Map<string, PushResource> {
    const out = this.build(this.kinds.flatMap((kind) => this.config.list(kind)));
    // The type's version moves only when its content does.
    const key = [...out.values()].map((r) => `${r.name}@${r.version}`).join(",");
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.generation++;
    }
    return out;
  }

  version(): string {
    return `c${this.generation}`;
  }
}

function specService(o: ConfigObject): string {
  const s = (o.spec as { service?: unknown } | null)?.service;
  return typeof s === "string" ? s : "";
}

/** Groups objects by spec.service, each group ordered by name. */
function byService(objects: ConfigObject[]): Map<string, ConfigObject[]> {
  const out = new Map<string, ConfigObject[]>();
  const sorted = [...objects].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  for (const o of sorted) {
    const service = specService(o);
    if (!service) continue;
    out.set(service, [...(out.get(service) ?? []), o]);
  }
  return out;
}

function versionOf(objects: ConfigObject[]): string {
  return contentVersion(objects.map((o) => [o.metadata.name, o.metadata.version, o.spec]));
}

/** Every Route of a service in one resource (rules are evaluated route by route, by name). */
export class RoutesGenerator extends ConfigGenerator {
  readonly type = TYPE_ROUTES;
  readonly kinds = ["Route"] as const;
  protected build(objects: ConfigObject[]): Map<string, PushResource> {
    const out = new Map<string, PushResource>();
    for (const [service, routes] of byService(objects)) {
      out.set(service, routesResource(service, routes, versionOf(routes)));
    }
    return out;
  }
}

/**
 * One resource per service with its ResiliencePolicy, its AuthorizationPolicy, or both: when several
 * of a kind name the same service, the first by name wins.
 */
export class PolicyGenerator extends ConfigGenerator {
  readonly type = TYPE_POLICY;
  readonly kinds = ["ResiliencePolicy", "AuthorizationPolicy"] as const;
  protected build(objects: ConfigObject[]): Map<string, PushResource> {
    const out = new Map<string, PushResource>();
    const resilience = byService(objects.filter((o) => o.kind === "ResiliencePolicy"));
    const authorization = byService(objects.filter((o) => o.kind === "AuthorizationPolicy"));
    for (const service of new Set([...resilience.keys(), ...authorization.keys()])) {
      const chosen = [resilience.get(service)?.[0], authorization.get(service)?.[0]];
      const present = chosen.filter((o): o is ConfigObject => o !== undefined);
      out.set(service, policyResource(service, chosen[0], chosen[1], versionOf(present)));
    }
    return out;
  }
}

/** "default" (no spec.service) plus one per service that has its own; first by name wins. */
export class TelemetryGenerator extends ConfigGenerator {
  readonly type = TYPE_TELEMETRY;
  readonly kinds = ["Telemetry"] as const;
  protected build(objects: ConfigObject[]): Map<string, PushResource> {
    const out = new Map<string, PushResource>();
    const sorted = [...objects].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    for (const o of sorted) {
      const name = specService(o) || "default";
      if (out.has(name)) continue;
      out.set(name, telemetryResource(name, o, versionOf([o])));
    }
    return out;
  }
}

/** Which generated type a config kind feeds (Service objects reach sidecars through the registry). */
export const KIND_TYPE: Partial<Record<ConfigKind, ResourceType>> = {
  Route: TYPE_ROUTES,
  ResiliencePolicy: TYPE_POLICY,
  AuthorizationPolicy: TYPE_POLICY,
  Telemetry: TYPE_TELEMETRY,
};
