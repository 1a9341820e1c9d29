// Consul's catalog registration as a registry source ("catalog"): PUT /v1/catalog/register and
// /v1/catalog/deregister, what Terraform's consul_service and consul-esm use to put an external
// service (a database outside the mesh) on a node of its own. Nothing runs its checks: whoever
// registers sets their status, and an instance is healthy while every check of it and of its node
// passes. Every change is a full-state sync of the source; nodes persist in the registry database.
import type { Endpoint, EndpointInput, ServiceRegistry } from "../registry/types";
import type { SqliteDatabase } from "../store/database";
import {
  bool,
  type CheckStatus,
  CONSUL_ID,
  CONSUL_NODE_NAME,
  type ConsulService,
  canonicalJson,
  FieldError,
  fail,
  fields,
  ipAddress,
  str,
  stringList,
  stringRecord,
  taggedAddresses,
  weights,
} from "./agent-definition";
import { consulEndpoint } from "./agent-source";
import type { Result } from "./validate";
import { isServiceName } from "./validate";

export const CATALOG_SOURCE = "catalog";
/** Every change re-syncs the whole source, so its size is bounded. */
const MAX_CATALOG_SERVICES = 10_000;

export type CatalogService = ConsulService;

export interface CatalogCheck {
  id: string;
  name: string;
  status: CheckStatus;
  output: string;
  notes: string;
  /** "" for a check of the node itself, which every service on it shares. */
  serviceId: string;
}

export interface CatalogNode {
  node: string;
  address: string;
  meta: Record<string, string>;
  services: Record<string, CatalogService>;
  checks: Record<string, CatalogCheck>;
}

export interface CatalogRegistration {
  node: string;
  address: string;
  meta: Record<string, string>;
  service?: CatalogService;
  checks: CatalogCheck[];
}

export interface CatalogDeregistration {
  node: string;
  serviceId?: string;
  checkId?: string;
}

/** A 400-worthy problem with a registration that parsed (an ID another node holds, too many services). */
export class CatalogError extends Error {}

function nodeName(f: Map<string, unknown>): string {
  const node = str(f.get("node"), "Node");
  if (!node) fail("Node is required");
  if (!CONSUL_NODE_NAME.test(node))
    fail(`Node "${node}" may hold letters, digits, '.', '_', '-' (at most 128)`);
  return node;
}

function service(value: unknown): CatalogService {
  const f = fields(value, "Service");
  const name = str(f.get("service"), "Service.Service");
  if (!name) fail("Service.Service (the service's name) is required");
  if (!isServiceName(name))
    fail(
      `Service.Service "${name}" is not a valid service name (letters, digits, '-', '_', '.'; at most 63)`,
    );
  const id = str(f.get("id"), "Service.ID") || name;
  if (!CONSUL_ID.test(id))
    fail(`Service.ID "${id}" may hold letters, digits, '.', '_', ':', '-' (at most 128)`);
  const address = str(f.get("address"), "Service.Address");
  const port = f.get("port") ?? 0;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
    fail(`Service.Port must be an integer from 0 to 65535, got ${JSON.stringify(port)}`);
  return {
    id,
    name,
    tags: stringList(f.get("tags"), "Service.Tags"),
    address: address === "" ? "" : ipAddress(address, "Service.Address"),
    port: port as number,
    meta: stringRecord(f.get("meta"), "Service.Meta"),
    taggedAddresses: taggedAddresses(f.get("taggedaddresses"), "Service.TaggedAddresses"),
    weights: weights(f.get("weights"), "Service.Weights"),
    enableTagOverride: bool(f.get("enabletagoverride"), "Service.EnableTagOverride"),
  };
}

function check(value: unknown, field: string, svc: CatalogService | undefined): CatalogCheck {
  const f = fields(value, field);
  const serviceId = str(f.get("serviceid"), `${field}.ServiceID`);
  const id = str(f.get("checkid"), `${field}.CheckID`) || (serviceId ? `service:${serviceId}` : "");
  if (!id) fail(`${field}.CheckID is required for a check of the node itself`);
  if (!CONSUL_ID.test(id)) fail(`${field}.CheckID "${id}" may hold letters, digits, '.', '_', ':', '-'`);
  const status = str(f.get("status"), `${field}.Status`) || "critical";
  if (status !== "passing" && status !== "warning" && status !== "critical")
    fail(`${field}.Status must be "passing", "warning" or "critical", got "${status}"`);
  return {
    id,
    name:
      str(f.get("name"), `${field}.Name`) || (serviceId ? `Service '${svc?.name ?? serviceId}' check` : id),
    status: status as CheckStatus,
    output: str(f.get("output"), `${field}.Output`),
    notes: str(f.get("notes"), `${field}.Notes`),
    serviceId,
  };
}

/** Validates a PUT /v1/catalog/register body; the error names the field (Consul's capitalisation). */
export function parseCatalogRegistration(value: unknown): Result<CatalogRegistration> {
  try {
    const f = fields(value, "the registration");
    const node = nodeName(f);
    const address = str(f.get("address"), "Address");
    if (!address) fail("Address (the node's) is required");
    const raw = f.get("service");
    const svc = raw === undefined || raw === null ? undefined : service(raw);
    const single = f.get("check");
    const many = f.get("checks");
    if (many !== undefined && many !== null && !Array.isArray(many)) fail("Checks must be a list");
    const checks = [
      ...(single === undefined || single === null ? [] : [check(single, "Check", svc)]),
      ...((many as unknown[] | null | undefined) ?? []).map((c, i) => check(c, `Checks[${i}]`, svc)),
    ];
    return {
      ok: true,
      value: {
        node,
        address: ipAddress(address, "Address"),
        meta: stringRecord(f.get("nodemeta"), "NodeMeta"),
        service: svc,
        checks,
      },
    };
  } catch (err) {
    if (err instanceof FieldError) return { ok: false, error: err.message };
    throw err;
  }
}

/** Validates a PUT /v1/catalog/deregister body. */
export function parseCatalogDeregistration(value: unknown): Result<CatalogDeregistration> {
  try {
    const f = fields(value, "the deregistration");
    const node = nodeName(f);
    const serviceId = str(f.get("serviceid"), "ServiceID") || undefined;
    const checkId = str(f.get("checkid"), "CheckID") || undefined;
    if (serviceId && checkId) fail("give ServiceID or CheckID, not both");
    return { ok: true, value: { node, serviceId, checkId } };
  } catch (err) {
    if (err instanceof FieldError) return { ok: false, error: err.message };
    throw err;
  }
}

export class CatalogSource {
  private readonly nodes = new Map<string, CatalogNode>();
  /** What Consul clients saw of each service (by ID) at the last sync, as consulView gives it. */
  private published = new Map<string, string>();

  constructor(
    private readonly registry: ServiceRegistry,
    private readonly db: SqliteDatabase,
    private readonly log: (message: string) => void,
  ) {
    db.exec("CREATE TABLE IF NOT EXISTS catalog_nodes (node TEXT PRIMARY KEY, value TEXT NOT NULL)");
    const rows = db.prepare("SELECT value FROM catalog_nodes ORDER BY node").all() as Array<{
      value: string;
    }>;
    for (const r of rows) {
      const n = JSON.parse(r.value) as CatalogNode;
      this.nodes.set(n.node, n);
      // As published before the restart: coming back is no change a blocking query should see.
      for (const svc of Object.values(n.services)) this.published.set(svc.id, consulView(n, svc));
    }
    if (this.nodes.size > 0) this.publish();
  }

  /** Adds or updates the node, its service and its checks (Consul's catalog register merges). */
  register(r: CatalogRegistration): void {
    const current = this.nodes.get(r.node);
    const next: CatalogNode = {
      node: r.node,
      address: r.address,
      meta: r.meta,
      services: { ...current?.services },
      checks: { ...current?.checks },
    };
    if (r.service) {
      const holder = [...this.nodes.values()].find((n) => n.node !== r.node && n.services[r.service!.id]);
      if (holder)
        throw new CatalogError(
          `service ID "${r.service.id}" is registered on node "${holder.node}"; give this one another ID`,
        );
      if (!next.services[r.service.id] && this.serviceCount() >= MAX_CATALOG_SERVICES)
        throw new CatalogError(
          `the catalog holds ${MAX_CATALOG_SERVICES} registered services; deregister some first`,
        );
      next.services[r.service.id] = r.service;
    }
    // What the registry refuses (an address in the service VIP range) would stop the whole source
    // from publishing: refused here, before anything is stored.
    for (const svc of Object.values(next.services)) {
      const address = svc.address || next.address;
      const problem = this.registry.endpointAddressProblem(address);
      if (problem)
        throw new CatalogError(
          `service "${svc.id}": address ${address} ${problem}; give the service's own address`,
        );
    }
    for (const c of r.checks) {
      if (c.serviceId && !next.services[c.serviceId])
        throw new CatalogError(
          `check "${c.id}" is for service ID "${c.serviceId}", which node "${r.node}" does not have`,
        );
      next.checks[c.id] = c;
    }
    this.nodes.set(r.node, next);
    this.save(next);
    this.publish();
  }

  /** Removes a check, a service (with its checks) or the whole node; nothing there is not an error. */
  deregister(d: CatalogDeregistration): void {
    const n = this.nodes.get(d.node);
    if (!n) return;
    if (d.checkId) delete n.checks[d.checkId];
    else if (d.serviceId) {
      delete n.services[d.serviceId];
      for (const [id, c] of Object.entries(n.checks)) if (c.serviceId === d.serviceId) delete n.checks[id];
    } else {
      this.nodes.delete(d.node);
      this.db.prepare("DELETE FROM catalog_nodes WHERE node = ?").run(d.node);
      this.publish();
      return;
    }
    this.save(n);
    this.publish();
  }

  /** The registered nodes and their own addresses. */
  list(): CatalogNode[] {
    return [...this.nodes.values()];
  }

  /** The catalog's view of one registry endpoint (its tags, and its checks with its node's), when it registered it. */
  serviceOf(
    e: Endpoint,
  ): { service: CatalogService; checks: CatalogCheck[]; nodeMeta: Record<string, string> } | undefined {
    if (e.source !== CATALOG_SOURCE) return undefined;
    const n = this.nodes.get(e.node);
    const svc = n?.services[e.id];
    if (!n || !svc) return undefined;
    return {
      service: svc,
      checks: Object.values(n.checks).filter((c) => !c.serviceId || c.serviceId === svc.id),
      nodeMeta: n.meta,
    };
  }

  private serviceCount(): number {
    let count = 0;
    for (const n of this.nodes.values()) count += Object.keys(n.services).length;
    return count;
  }

  private save(n: CatalogNode): void {
    if (this.db.open)
      this.db
        .prepare("INSERT OR REPLACE INTO catalog_nodes (node, value) VALUES (?, ?)")
        .run(n.node, JSON.stringify(n));
  }

  /** Full-state sync of the "catalog" source. A service whose tags, checks or node metadata changed
   * is a change for the registry too (Consul bumps its ModifyIndex), though its endpoint is not. */
  private publish(): void {
    const endpoints: EndpointInput[] = [];
    const views = new Map<string, string>();
    const touched = new Set<string>();
    for (const n of this.nodes.values()) {
      const checks = Object.values(n.checks);
      for (const s of Object.values(n.services)) {
        const healthy = checks.every(
          (c) => (c.serviceId !== "" && c.serviceId !== s.id) || c.status === "passing",
        );
        endpoints.push(consulEndpoint(s, n.address, n.node, healthy));
        const view = consulView(n, s);
        views.set(s.id, view);
        const before = this.published.get(s.id);
        if (before !== undefined && before !== view) touched.add(s.id);
      }
    }
    try {
      this.registry.syncEndpoints(CATALOG_SOURCE, endpoints, [], { touched });
      this.published = views;
    } catch (err) {
      this.log(`catalog: registry sync failed: ${(err as Error).message}`);
    }
  }
}

/** What a Consul client sees of a catalog service: the service, its node's address and metadata, and
 * every check of it or of its node (status, output, notes: Consul's catalog stores each as sent). */
function consulView(n: CatalogNode, svc: CatalogService): string {
  const checks = Object.values(n.checks)
    .filter((c) => !c.serviceId || c.serviceId === svc.id)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return canonicalJson([svc, n.address, n.meta, checks]);
}
