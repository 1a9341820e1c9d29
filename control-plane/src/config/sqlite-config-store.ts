// Mesh config kept in the control plane's SQLite database: the current objects, every version in
// config_history, one global version counter. An apply is one transaction (all or nothing) that
// also updates the registry for Service objects; listeners hear about changes only after commit.
// Reads come from an in-memory copy, so the push can call list/forService as often as it likes.
import type { ServicePort } from "../registry/types";
import type { SqliteDatabase } from "../store/database";
import {
  checkVersion,
  deepFreeze,
  type HistoryRow,
  key,
  notFound,
  type ObjectRow,
  sameContent,
  toObject,
} from "./object-rows";
import { checkReferences } from "./references";
import { type EndpointLabels, routeWarnings } from "./route-warnings";
import {
  API_VERSION,
  type ApplyResult,
  type ChangeType,
  type ConfigChange,
  type ConfigDocument,
  type ConfigKind,
  type ConfigObject,
  type ConfigStore,
  type HistoryEntry,
  type RouteSpec,
  type ServiceSpec,
} from "./types";
import { serviceOf, validateDocuments } from "./validate";

/** What the store needs from the registry (SqliteRegistry on the same database provides it). */
export interface ConfigServiceRegistry {
  getService(name: string): unknown;
  /** Runs inside the store's transaction; `ports` undefined returns a service to "implied". */
  setConfigServices(
    entries: Array<{ name: string; ports?: ServicePort[]; labels?: Record<string, string> }>,
  ): string[];
  announceChange(services: string[]): void;
  /** A service's endpoints now (for warnings about Routes whose subsets match none). */
  listEndpoints(service: string): EndpointLabels;
}

export interface SqliteConfigStoreOptions {
  /** Where listener failures are reported. Default: console.error. */
  log?: (message: string) => void;
  /** The clock for createdAt/updatedAt. Default: new Date(). */
  now?: () => Date;
}

type Listener = (change: ConfigChange) => void;

export class SqliteConfigStore implements ConfigStore {
  private readonly objects = new Map<string, ConfigObject>();
  private readonly listeners = new Set<Listener>();
  private readonly log: (message: string) => void;
  private readonly now: () => Date;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly registry: ConfigServiceRegistry,
    options: SqliteConfigStoreOptions = {},
  ) {
    this.log = options.log ?? ((m) => console.error(m));
    this.now = options.now ?? (() => new Date());
    for (const row of this.db.prepare("SELECT * FROM config_objects").all() as ObjectRow[]) {
      this.objects.set(key(row.kind, row.name), toObject(row));
    }
  }

  list(kind: ConfigKind): ConfigObject[] {
    return [...this.objects.values()]
      .filter((o) => o.kind === kind)
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  }

  get(kind: ConfigKind, name: string): ConfigObject | undefined {
    return this.objects.get(key(kind, name));
  }

  forService(kind: ConfigKind, service: string): ConfigObject[] {
    return this.list(kind).filter((o) => {
      if (kind === "Service") return o.metadata.name === service;
      if (kind === "Telemetry" && o.metadata.name === "default") return true;
      return (o.spec as { service?: string }).service === service;
    });
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The current global config version (0 before the first change). */
  version(): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'config_version'").get() as {
      value: string;
    };
    return Number(row.value);
  }

  /**
   * Validates every document (unknown input), checks references, then stores them in one
   * transaction: all or nothing. Throws ConfigValidationError (with the document index) or
   * ConfigError VERSION_CONFLICT when a document's metadata.version is not the current one.
   * With `dryRun`, the same checks and the same answer (each object's action, the version it would
   * get, warnings), and nothing is stored (kubectl apply --dry-run=server).
   */
  apply(values: unknown, o: { dryRun?: boolean } = {}): ApplyResult[] {
    const docs = validateDocuments(values);
    checkReferences(docs, {
      registryHas: (s) => this.registry.getService(s) !== undefined,
      list: (k) => this.list(k),
    });
    if (o.dryRun) return this.withWarnings(docs, this.plan(docs));
    const at = this.now().toISOString();
    const written: ConfigObject[] = [];
    const changes: ConfigChange[] = [];
    let services: string[] = [];
    const results = this.db
      .transaction(() => {
        const planned = this.plan(docs);
        planned.forEach((r, i) => {
          if (r.action === "unchanged") return;
          const doc = docs[i]!;
          const current = this.get(doc.kind, doc.metadata.name);
          const object: ConfigObject = {
            apiVersion: API_VERSION,
            kind: doc.kind,
            metadata: {
              name: doc.metadata.name,
              labels: doc.metadata.labels,
              version: r.version,
              createdAt: current?.metadata.createdAt ?? at,
              updatedAt: at,
            },
            spec: doc.spec,
          };
          this.write(object, r.action, at);
          written.push(object);
          const previous = current ? serviceOf(current.kind, current.metadata.name, current.spec) : undefined;
          const next = serviceOf(doc.kind, doc.metadata.name, doc.spec);
          // A route moved to another service is gone from the old one's point of view.
          if (previous !== undefined && previous !== next) {
            changes.push({ kind: doc.kind, name: doc.metadata.name, service: previous, deleted: true });
          }
          changes.push(
            compactChange({ kind: doc.kind, name: doc.metadata.name, service: next, deleted: false }),
          );
        });
        const defined = written.filter((o) => o.kind === "Service");
        if (defined.length > 0) {
          services = this.registry.setConfigServices(
            defined.map((o) => ({
              name: o.metadata.name,
              ports: registryPorts(o.spec as ServiceSpec),
              labels: o.metadata.labels,
              mtls: (o.spec as ServiceSpec).mtls,
            })),
          );
        }
        this.setVersion(Math.max(this.version(), ...planned.map((r) => r.version)));
        return planned;
      })
      .immediate();
    for (const o of written) this.objects.set(key(o.kind, o.metadata.name), deepFreeze(o));
    this.announce(changes, services);
    return this.withWarnings(docs, results);
  }

  /** What applying `docs` now would do to each: its action and the version it would have; throws
   * VERSION_CONFLICT for a stale metadata.version. Reads only. */
  private plan(docs: ConfigDocument[]): ApplyResult[] {
    let version = this.version();
    return docs.map((doc) => {
      const current = this.get(doc.kind, doc.metadata.name);
      checkVersion(doc.kind, doc.metadata.name, doc.metadata.version, current);
      if (current && sameContent(current, doc)) {
        return {
          kind: doc.kind,
          name: doc.metadata.name,
          action: "unchanged",
          version: current.metadata.version,
        };
      }
      version += 1;
      return { kind: doc.kind, name: doc.metadata.name, action: current ? "configured" : "created", version };
    });
  }

  /** Each Route's warnings (valid, but not doing what it says yet) added to its result. */
  private withWarnings(docs: ConfigDocument[], results: ApplyResult[]): ApplyResult[] {
    return results.map((r, i) => {
      const doc = docs[i] as ConfigDocument;
      if (doc.kind !== "Route") return r;
      const spec = doc.spec as RouteSpec;
      const warnings = routeWarnings(spec, this.registry.listEndpoints(spec.service));
      return warnings.length > 0 ? { ...r, warnings } : r;
    });
  }

  /** Deletes one object; CONFIG_NOT_FOUND when absent, VERSION_CONFLICT when `expectedVersion` is stale. */
  delete(kind: ConfigKind, name: string, expectedVersion?: number): ApplyResult {
    const current = this.get(kind, name);
    if (!current) throw notFound(kind, name);
    let services: string[] = [];
    const at = this.now().toISOString();
    const version = this.db
      .transaction(() => {
        checkVersion(kind, name, expectedVersion, current);
        const v = this.version() + 1;
        this.db.prepare("DELETE FROM config_objects WHERE kind = ? AND name = ?").run(kind, name);
        this.record(v, kind, name, "deleted", current.metadata.labels, current.spec, at);
        if (kind === "Service") services = this.registry.setConfigServices([{ name }]);
        this.setVersion(v);
        return v;
      })
      .immediate();
    this.objects.delete(key(kind, name));
    this.announce(
      [compactChange({ kind, name, service: serviceOf(kind, name, current.spec), deleted: true })],
      services,
    );
    return { kind, name, action: "deleted", version };
  }

  /** Every version of one object, oldest first; CONFIG_NOT_FOUND when it never existed. */
  history(kind: ConfigKind, name: string): HistoryEntry[] {
    const rows = this.db
      .prepare("SELECT * FROM config_history WHERE kind = ? AND name = ? ORDER BY version")
      .all(kind, name) as HistoryRow[];
    if (rows.length === 0) throw notFound(kind, name);
    return rows.map((r) => ({
      kind: r.kind,
      name: r.name,
      version: r.version,
      change: r.change,
      labels: JSON.parse(r.labels) as Record<string, string>,
      spec: JSON.parse(r.spec) as unknown,
      at: r.at,
    }));
  }

  private write(o: ConfigObject, change: ChangeType, at: string): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO config_objects (kind, name, service, labels, spec, version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        o.kind,
        o.metadata.name,
        serviceOf(o.kind, o.metadata.name, o.spec) ?? null,
        JSON.stringify(o.metadata.labels),
        JSON.stringify(o.spec),
        o.metadata.version,
        o.metadata.createdAt,
        o.metadata.updatedAt,
      );
    this.record(o.metadata.version, o.kind, o.metadata.name, change, o.metadata.labels, o.spec, at);
  }

  private record(
    version: number,
    kind: ConfigKind,
    name: string,
    change: ChangeType,
    labels: Record<string, string>,
    spec: unknown,
    at: string,
  ): void {
    this.db
      .prepare(
        "INSERT INTO config_history (version, kind, name, change, labels, spec, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(version, kind, name, change, JSON.stringify(labels), JSON.stringify(spec), at);
  }

  private setVersion(version: number): void {
    this.db.prepare("UPDATE meta SET value = ? WHERE key = 'config_version'").run(String(version));
  }

  private announce(changes: ConfigChange[], services: string[]): void {
    // The registry first: a route's push must find the service it points to already changed.
    this.registry.announceChange(services);
    for (const change of changes) {
      for (const listener of [...this.listeners]) {
        try {
          listener(change);
        } catch (err) {
          // One broken subscriber must not keep the others from hearing about the change.
          this.log(`config change listener failed: ${(err as Error).message}`);
        }
      }
    }
  }
}

function registryPorts(spec: ServiceSpec): ServicePort[] {
  return spec.ports.map((p) => ({ name: p.name ?? "", port: p.port, protocol: p.protocol }));
}

function compactChange(c: ConfigChange): ConfigChange {
  return c.service === undefined ? { kind: c.kind, name: c.name, deleted: c.deleted } : c;
}
