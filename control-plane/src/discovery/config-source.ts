// What the push needs from the config store (docs/INTERFACES.md "Config objects"): list the objects
// of a kind and hear about committed changes. Declared here structurally, so the discovery code
// compiles and is tested without the store; the real ConfigStore satisfies it as it is.

export type ConfigKind = "Service" | "Route" | "ResiliencePolicy" | "Telemetry" | "AuthorizationPolicy";

export interface ConfigObject<S = unknown> {
  apiVersion: "weft.dev/v1";
  kind: ConfigKind;
  metadata: {
    name: string;
    labels: Record<string, string>;
    version: number;
    createdAt: string;
    updatedAt: string;
  };
  spec: S;
}

export interface ConfigChange {
  kind: ConfigKind;
  name: string;
  service?: string;
  deleted: boolean;
}

export interface ConfigSource {
  /** Every object of the kind. */
  list(kind: ConfigKind): ConfigObject[];
  /** Called after every committed change; returns an unsubscribe. */
  onChange(listener: (change: ConfigChange) => void): () => void;
}

/** A config source held in memory: for tests, and as the stand-in while no store is wired. */
export class MemoryConfigSource implements ConfigSource {
  private readonly objects = new Map<string, ConfigObject>();
  private readonly listeners = new Set<(change: ConfigChange) => void>();
  private version = 0;

  list(kind: ConfigKind): ConfigObject[] {
    return [...this.objects.values()]
      .filter((o) => o.kind === kind)
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  }

  onChange(listener: (change: ConfigChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stores (or replaces) an object and tells the listeners. */
  put(kind: ConfigKind, name: string, spec: unknown): ConfigObject {
    const now = new Date().toISOString();
    const key = `${kind}/${name}`;
    const old = this.objects.get(key);
    const object: ConfigObject = {
      apiVersion: "weft.dev/v1",
      kind,
      metadata: {
        name,
        labels: {},
        version: ++this.version,
        createdAt: old?.metadata.createdAt ?? now,
        updatedAt: now,
      },
      spec,
    };
    this.objects.set(key, object);
    this.emit({ kind, name, service: serviceOf(spec), deleted: false });
    return object;
  }

  delete(kind: ConfigKind, name: string): void {
    const key = `${kind}/${name}`;
    const old = this.objects.get(key);
    if (!old) return;
    this.objects.delete(key);
    this.version++;
    this.emit({ kind, name, service: serviceOf(old.spec), deleted: true });
  }

  private emit(change: ConfigChange): void {
    for (const l of this.listeners) l(change);
  }
}

function serviceOf(spec: unknown): string | undefined {
  const s = (spec as { service?: unknown } | null)?.service;
  return typeof s === "string" && s !== "" ? s : undefined;
}
