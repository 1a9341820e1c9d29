// The current resources of every type, built by the generators at one moment (one registry index),
// shared by every stream. A refresh reports exactly which names changed, so a push carries only
// those and reaches only the streams subscribed to them.
import type { Generator } from "./generator";
import { type PushResource, RESOURCE_TYPES, type ResourceType } from "./wire";

export type ChangedNames = Map<ResourceType, Set<string>>;

export class ResourceCache {
  private readonly generators = new Map<ResourceType, Generator>();
  private readonly resources = new Map<ResourceType, Map<string, PushResource>>();
  private readonly versions = new Map<ResourceType, string>();

  constructor(generators: Generator[]) {
    for (const g of generators) this.generators.set(g.type, g);
    for (const type of RESOURCE_TYPES) this.resources.set(type, new Map());
    this.refresh({ all: new Set(this.generators.keys()) });
  }

  /** The type's version: the label of the generation the cache holds. */
  version(type: ResourceType): string {
    return this.versions.get(type) ?? "";
  }

  get(type: ResourceType, name: string): PushResource | undefined {
    return this.resources.get(type)!.get(name);
  }

  /** Every resource of the type (for wildcard subscribers), in name order. */
  list(type: ResourceType): PushResource[] {
    return [...this.resources.get(type)!.values()];
  }

  /**
   * Regenerates the types in `all` whole and the named resources of registry types in `names`;
   * returns, per type, the names whose version changed or that appeared or went away.
   */
  refresh(request: { all?: Set<ResourceType>; names?: Set<string> }): ChangedNames {
    const changed: ChangedNames = new Map();
    for (const [type, generator] of this.generators) {
      const current = this.resources.get(type)!;
      const names = new Set<string>();
      if (request.all?.has(type)) {
        const next = generator.all();
        for (const [name, r] of next) if (current.get(name)?.version !== r.version) names.add(name);
        for (const name of current.keys()) if (!next.has(name)) names.add(name);
        this.resources.set(type, sortByName(next));
      } else if (request.names && generator.source === "registry" && request.names.size > 0) {
        const some = generator.some ? generator.some(request.names) : pick(generator.all(), request.names);
        let added = false;
        for (const [name, r] of some) {
          const old = current.get(name);
          if (old?.version === r?.version) continue;
          names.add(name);
          if (r) {
            added ||= !old;
            current.set(name, r);
          } else current.delete(name);
        }
        if (added) this.resources.set(type, sortByName(current));
      } else continue;
      this.versions.set(type, generator.version());
      if (names.size > 0) changed.set(type, names);
    }
    return changed;
  }
}

function pick(all: Map<string, PushResource>, names: Set<string>): Map<string, PushResource | undefined> {
  return new Map([...names].map((n) => [n, all.get(n)]));
}

function sortByName(m: Map<string, PushResource>): Map<string, PushResource> {
  return new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
