// The registry kept in SQLite: services with their virtual IPs, endpoints by source, and one change
// index that grows with every committed change (Consul's X-Consul-Index, the push version).
import { isMtlsMode, type MtlsMode } from "../../../proto/mtls-mode";
import { ControlPlaneError } from "../errors";
import type { SqliteDatabase } from "../store/database";
import { unroutableAddress } from "./endpoint-address";
import type {
  Endpoint,
  EndpointInput,
  RegistryChange,
  Service,
  ServiceDeclaration,
  ServicePort,
  ServiceRegistry,
  SyncOptions,
  SyncResult,
} from "./types";
import { allocateVirtualIp, type Cidr, inRange, intToIpv4, parseCidr } from "./vip";

interface ServiceRow {
  name: string;
  virtual_ip: string;
  ports: string;
  labels: string;
  origin: string;
  mtls: string;
  create_index: number;
  modify_index: number;
}

interface EndpointRow {
  source: string;
  id: string;
  service: string;
  address: string;
  ports: string;
  labels: string;
  workload: string;
  node: string;
  healthy: number;
  create_index: number;
  modify_index: number;
}

export interface SqliteRegistryOptions {
  /** The range virtual IPs come from. Default "10.96.0.0/16". */
  serviceCidr?: string;
  /** Where listener failures are reported. Default: console.error. */
  log?: (message: string) => void;
}

export class SqliteRegistry implements ServiceRegistry {
  private readonly range: Cidr;
  private readonly listeners = new Set<(change: RegistryChange) => void>();
  private readonly log: (message: string) => void;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteRegistryOptions = {},
  ) {
    this.range = parseCidr(options.serviceCidr ?? "10.96.0.0/16");
    this.log = options.log ?? ((m) => console.error(m));
  }

  endpointAddressProblem(address: string): string | undefined {
    const unroutable = unroutableAddress(address);
    if (unroutable) return unroutable;
    if (!inRange(this.range, address)) return undefined;
    return `is in the service range ${intToIpv4(this.range.network)}/${this.range.prefixLength}, where virtual IPs come from (traffic to it would loop through the sidecars)`;
  }

  syncEndpoints(
    source: string,
    endpoints: EndpointInput[],
    declarations: ServiceDeclaration[],
    options: SyncOptions = {},
  ): SyncResult {
    for (const [i, e] of endpoints.entries()) {
      const problem = this.endpointAddressProblem(e.address);
      if (problem)
        throw new ControlPlaneError(
          "INVALID_ARGUMENT",
          `endpoints[${i}] ("${e.id}").address ${e.address} ${problem}: register the workload's own address`,
        );
    }
    const changed = new Set<string>();
    const run = this.db.transaction(() => {
      const next = this.index() + 1;
      const names = [...new Set([...declarations.map((d) => d.name), ...endpoints.map((e) => e.service)])];
      for (const name of names) {
        const declaration = declarations.find((d) => d.name === name);
        if (this.ensureService(name, declaration, endpoints, next)) changed.add(name);
      }
      const old = new Map(
        (this.db.prepare("SELECT * FROM endpoints WHERE source = ?").all(source) as EndpointRow[]).map(
          (r) => [r.id, r],
        ),
      );
      for (const endpoint of endpoints) {
        const previous = old.get(endpoint.id);
        old.delete(endpoint.id);
        const row = toEndpointRow(source, endpoint, previous?.create_index ?? next, next);
        if (previous && sameEndpoint(previous, row) && !options.touched?.has(endpoint.id)) continue;
        this.db
          .prepare(
            `INSERT OR REPLACE INTO endpoints (source, id, service, address, ports, labels, workload, node, healthy, create_index, modify_index)
             VALUES (@source, @id, @service, @address, @ports, @labels, @workload, @node, @healthy, @create_index, @modify_index)`,
          )
          .run(row);
        changed.add(endpoint.service);
        if (previous) changed.add(previous.service);
      }
      for (const gone of old.values()) {
        this.db.prepare("DELETE FROM endpoints WHERE source = ? AND id = ?").run(source, gone.id);
        changed.add(gone.service);
      }
      if (changed.size > 0)
        this.db.prepare("UPDATE meta SET value = ? WHERE key = 'index'").run(String(next));
      return names;
    });
    const names = run.immediate();
    const index = this.index();
    if (changed.size > 0) this.emit({ index, services: [...changed].sort() });
    return { index, services: names.map((n) => this.getService(n)!).filter(Boolean) };
  }

  listServices(): Service[] {
    return (this.db.prepare("SELECT * FROM services ORDER BY name").all() as ServiceRow[]).map(toService);
  }

  getService(name: string): Service | undefined {
    const row = this.db.prepare("SELECT * FROM services WHERE name = ?").get(name) as ServiceRow | undefined;
    return row ? toService(row) : undefined;
  }

  listEndpoints(service: string): Endpoint[] {
    return (
      this.db
        .prepare("SELECT * FROM endpoints WHERE service = ? ORDER BY source, id")
        .all(service) as EndpointRow[]
    ).map(toEndpoint);
  }

  serviceNamesIgnoringCase(name: string): string[] {
    // Service names are ASCII (proto/service-name.ts), which is all NOCASE folds.
    return this.db
      .prepare("SELECT name FROM services WHERE name = ? COLLATE NOCASE ORDER BY name")
      .pluck()
      .all(name) as string[];
  }

  listAllEndpoints(): Endpoint[] {
    return (
      this.db.prepare("SELECT * FROM endpoints ORDER BY service, source, id").all() as EndpointRow[]
    ).map(toEndpoint);
  }

  endpointCounts(): Map<string, number> {
    const rows = this.db
      .prepare("SELECT service, COUNT(*) AS n FROM endpoints GROUP BY service")
      .all() as Array<{
      service: string;
      n: number;
    }>;
    return new Map(rows.map((r) => [r.service, r.n]));
  }

  markSourceUnhealthy(source: string): number {
    const services: string[] = [];
    const run = this.db.transaction(() => {
      const rows = this.db
        .prepare("SELECT DISTINCT service FROM endpoints WHERE source = ? AND healthy = 1")
        .all(source) as Array<{ service: string }>;
      if (rows.length === 0) return 0;
      const next = this.index() + 1;
      const { changes } = this.db
        .prepare("UPDATE endpoints SET healthy = 0, modify_index = ? WHERE source = ? AND healthy = 1")
        .run(next, source);
      this.db.prepare("UPDATE meta SET value = ? WHERE key = 'index'").run(String(next));
      services.push(...rows.map((r) => r.service));
      return changes;
    });
    const changed = run.immediate();
    if (changed > 0) this.emit({ index: this.index(), services: services.sort() });
    return changed;
  }

  listSources(): string[] {
    return (
      this.db.prepare("SELECT DISTINCT source FROM endpoints ORDER BY source").all() as Array<{
        source: string;
      }>
    ).map((r) => r.source);
  }

  index(): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'index'").get() as { value: string };
    return Number(row.value);
  }

  onChange(listener: (change: RegistryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.listeners.clear();
    if (this.db.open) this.db.close();
  }

  /**
   * Creates a missing service as "implied", or refreshes the ports and labels of an implied one from
   * its declaration. A "config" service is never changed by a source. Returns whether anything changed.
   */
  private ensureService(
    name: string,
    declaration: ServiceDeclaration | undefined,
    endpoints: EndpointInput[],
    next: number,
  ): boolean {
    const existing = this.getService(name);
    const ports = declaration?.ports ?? impliedPorts(endpoints.filter((e) => e.service === name));
    const labels = declaration?.labels ?? {};
    if (!existing) {
      this.db
        .prepare(
          `INSERT INTO services (name, virtual_ip, ports, labels, origin, create_index, modify_index)
           VALUES (?, ?, ?, ?, 'implied', ?, ?)`,
        )
        .run(name, this.virtualIpFor(name), JSON.stringify(ports), JSON.stringify(labels), next, next);
      return true;
    }
    if (existing.origin !== "implied" || !declaration) return false;
    const samePorts = JSON.stringify(existing.ports) === JSON.stringify(ports);
    const sameLabels = JSON.stringify(sortedRecord(existing.labels)) === JSON.stringify(sortedRecord(labels));
    if (samePorts && sameLabels) return false;
    this.db
      .prepare("UPDATE services SET ports = ?, labels = ?, modify_index = ? WHERE name = ?")
      .run(JSON.stringify(ports), JSON.stringify(labels), next, name);
    return true;
  }

  /**
   * For the config API, inside the caller's transaction: makes each service a "config" service with
   * `ports` and `labels` (keeping its virtual IP; allocating one for a new service), or, when `ports`
   * is undefined, returns it to "implied" with the ports its endpoints serve, keeping the virtual IP.
   * Bumps the change index once. Returns the names that changed; announce them with
   * `announceChange` after the caller commits.
   */
  setConfigServices(
    entries: Array<{ name: string; ports?: ServicePort[]; labels?: Record<string, string>; mtls?: MtlsMode }>,
  ): string[] {
    const next = this.index() + 1;
    const changed: string[] = [];
    for (const { name, ports, labels, mtls } of entries) {
      const existing = this.getService(name);
      const origin = ports ? "config" : "implied";
      const newPorts = ports ?? impliedPorts(this.listEndpoints(name));
      const newLabels = JSON.stringify(Object.fromEntries(sortedRecord(labels ?? existing?.labels ?? {})));
      const newMtls = (ports && mtls) || "";
      if (!existing) {
        if (!ports) continue;
        this.db
          .prepare(
            `INSERT INTO services (name, virtual_ip, ports, labels, origin, mtls, create_index, modify_index)
             VALUES (?, ?, ?, ?, 'config', ?, ?, ?)`,
          )
          .run(name, this.virtualIpFor(name), JSON.stringify(newPorts), newLabels, newMtls, next, next);
      } else {
        const same =
          existing.origin === origin &&
          JSON.stringify(existing.ports) === JSON.stringify(newPorts) &&
          JSON.stringify(Object.fromEntries(sortedRecord(existing.labels))) === newLabels &&
          (existing.mtls ?? "") === newMtls;
        if (same) continue;
        this.db
          .prepare(
            "UPDATE services SET ports = ?, labels = ?, origin = ?, mtls = ?, modify_index = ? WHERE name = ?",
          )
          .run(JSON.stringify(newPorts), newLabels, origin, newMtls, next, name);
      }
      changed.push(name);
    }
    if (changed.length > 0)
      this.db.prepare("UPDATE meta SET value = ? WHERE key = 'index'").run(String(next));
    return changed;
  }

  removeIdleImplied(names: string[]): string[] {
    const removed: string[] = [];
    const run = this.db.transaction(() => {
      const now = Date.now();
      for (const name of new Set(names)) {
        const row = this.db
          .prepare(
            `SELECT virtual_ip FROM services WHERE name = ? AND origin = 'implied'
               AND NOT EXISTS (SELECT 1 FROM endpoints WHERE service = ?)`,
          )
          .get(name, name) as { virtual_ip: string } | undefined;
        if (!row) continue;
        this.db.prepare("DELETE FROM services WHERE name = ?").run(name);
        this.db
          .prepare("INSERT OR REPLACE INTO retired_vips (name, virtual_ip, retired_at) VALUES (?, ?, ?)")
          .run(name, row.virtual_ip, now);
        removed.push(name);
      }
      if (removed.length > 0)
        this.db.prepare("UPDATE meta SET value = ? WHERE key = 'index'").run(String(this.index() + 1));
    });
    run.immediate();
    if (removed.length > 0) this.emit({ index: this.index(), services: removed.sort() });
    return removed;
  }

  /**
   * A virtual IP for a new service: the one the name had before it was removed, when still free;
   * otherwise the lowest free one that no removed service had; when the range holds nothing else, the
   * longest-retired one. Runs inside the caller's transaction.
   */
  private virtualIpFor(name: string): string {
    const taken = new Set(
      (this.db.prepare("SELECT virtual_ip FROM services").all() as Array<{ virtual_ip: string }>).map(
        (r) => r.virtual_ip,
      ),
    );
    const retired = this.db
      .prepare("SELECT name, virtual_ip FROM retired_vips ORDER BY retired_at, name")
      .all() as Array<{ name: string; virtual_ip: string }>;
    const own = retired.find(
      (r) => r.name === name && !taken.has(r.virtual_ip) && inRange(this.range, r.virtual_ip),
    );
    let ip = own?.virtual_ip;
    if (ip === undefined) {
      try {
        ip = allocateVirtualIp(this.range, new Set([...taken, ...retired.map((r) => r.virtual_ip)]));
      } catch (err) {
        const oldest = retired.find((r) => !taken.has(r.virtual_ip) && inRange(this.range, r.virtual_ip));
        if (!oldest) throw err;
        ip = oldest.virtual_ip;
      }
    }
    this.db.prepare("DELETE FROM retired_vips WHERE name = ? OR virtual_ip = ?").run(name, ip);
    return ip;
  }

  /** Tells listeners about services changed by `setConfigServices` once the caller has committed. */
  announceChange(services: string[]): void {
    if (services.length > 0) this.emit({ index: this.index(), services: [...services].sort() });
  }

  private emit(change: RegistryChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        // One broken subscriber must not stop the others from hearing about the change.
        this.log(`registry change listener failed: ${(err as Error).message}`);
      }
    }
  }
}

/** Ports of a service nobody declared: the distinct ports its endpoints serve, in order of appearance. */
function impliedPorts(endpoints: EndpointInput[]): ServicePort[] {
  const seen = new Map<number, ServicePort>();
  for (const e of endpoints) for (const p of e.ports) if (!seen.has(p.port)) seen.set(p.port, p);
  return [...seen.values()];
}

function sortedRecord(r: Record<string, string>): Array<[string, string]> {
  return Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function toEndpointRow(
  source: string,
  e: EndpointInput,
  createIndex: number,
  modifyIndex: number,
): EndpointRow {
  return {
    source,
    id: e.id,
    service: e.service,
    address: e.address,
    ports: JSON.stringify(e.ports),
    labels: JSON.stringify(Object.fromEntries(sortedRecord(e.labels))),
    workload: e.workload,
    node: e.node,
    healthy: e.healthy ? 1 : 0,
    create_index: createIndex,
    modify_index: modifyIndex,
  };
}

function sameEndpoint(a: EndpointRow, b: EndpointRow): boolean {
  return (
    a.service === b.service &&
    a.address === b.address &&
    a.ports === b.ports &&
    a.labels === b.labels &&
    a.workload === b.workload &&
    a.node === b.node &&
    a.healthy === b.healthy
  );
}

function toService(r: ServiceRow): Service {
  return {
    name: r.name,
    virtualIp: r.virtual_ip,
    ports: JSON.parse(r.ports) as ServicePort[],
    labels: JSON.parse(r.labels) as Record<string, string>,
    origin: r.origin === "config" ? "config" : "implied",
    ...(isMtlsMode(r.mtls) ? { mtls: r.mtls } : {}),
    createIndex: r.create_index,
    modifyIndex: r.modify_index,
  };
}

function toEndpoint(r: EndpointRow): Endpoint {
  return {
    id: r.id,
    service: r.service,
    address: r.address,
    ports: JSON.parse(r.ports) as ServicePort[],
    labels: JSON.parse(r.labels) as Record<string, string>,
    workload: r.workload,
    node: r.node,
    healthy: r.healthy === 1,
    source: r.source,
    createIndex: r.create_index,
    modifyIndex: r.modify_index,
  };
}
