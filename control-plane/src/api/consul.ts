// The registry shaped as Consul's catalog and health APIs return it, so Consul clients and tools
// (consul-template, Prometheus consul_sd, the npm `consul` client) work against Weft unchanged.
// Each endpoint is one Consul service instance on a node named after the endpoint's node.
import { createHash } from "node:crypto";
import type { Endpoint, ServiceRegistry } from "../registry/types";

export const DATACENTER = "dc1";
/** The headers Consul answers with; `index` is the X-Consul-Index a blocking query waits past. */
export function consulHeaders(index: number): Record<string, string> {
  return {
    "X-Consul-Index": String(index),
    "X-Consul-KnownLeader": "true",
    "X-Consul-LastContact": "0",
    "X-Consul-Effective-Consistency": "leader",
  };
}

/** Consul reads a bare flag (`?passing`, `?recurse`), or any value but false/0, as set. */
export function consulFlag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  return v !== null && v !== "false" && v !== "0";
}

/** The node name used for endpoints whose source did not say where they run. */
const DEFAULT_NODE = "weft";

/** A check as Consul shows it for one instance (the agent API's own checks). */
export interface ConsulCheckView {
  id: string;
  name: string;
  status: string;
  output: string;
  notes: string;
  type: string;
}

/** What the agent API knows beyond the registry: tags and real checks of the services it registered. */
export interface ConsulExtras {
  tags(e: Endpoint): string[] | undefined;
  checks(e: Endpoint): ConsulCheckView[] | undefined;
}

const NO_EXTRAS: ConsulExtras = { tags: () => undefined, checks: () => undefined };

/** Consul instances carry tags; Weft carries labels. The "version" label is also a tag, "version=v2". */
export function tagsOf(e: Endpoint): string[] {
  return e.labels.version !== undefined ? [`version=${e.labels.version}`] : [];
}

/** A stable UUID-shaped node ID derived from the node name, as Consul nodes have one. */
export function nodeId(node: string): string {
  const h = createHash("sha256").update(node).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function taggedAddresses(address: string): Record<string, string> {
  const v = address.includes(":") ? "ipv6" : "ipv4";
  return { lan: address, [`lan_${v}`]: address, wan: address, [`wan_${v}`]: address };
}

/** One port per Consul instance: the first the endpoint declares, else the service's first, else 0. */
export function portOf(registry: ServiceRegistry, e: Endpoint): number {
  return e.ports[0]?.port ?? registry.getService(e.service)?.ports[0]?.port ?? 0;
}

function nodeName(e: Endpoint): string {
  return e.node || DEFAULT_NODE;
}

/** GET /v1/catalog/services: {name: [tags]} for every service with at least one instance. */
export function catalogServices(
  registry: ServiceRegistry,
  extras: ConsulExtras = NO_EXTRAS,
): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const e of registry.listAllEndpoints()) {
    out[e.service] ??= new Set();
    for (const t of extras.tags(e) ?? tagsOf(e)) out[e.service]!.add(t);
  }
  return Object.fromEntries(Object.entries(out).map(([name, tags]) => [name, [...tags].sort()]));
}

export function instances(
  registry: ServiceRegistry,
  name: string,
  tag: string | undefined,
  extras: ConsulExtras,
): Endpoint[] {
  // Consul finds a service here whatever the case of the name asked (its catalog indexes names
  // lower-cased; only /v1/catalog/services lists each spelling apart): every spelling's instances,
  // each with its own ServiceName.
  const all = registry.serviceNamesIgnoringCase(name).flatMap((n) => registry.listEndpoints(n));
  return tag === undefined ? all : all.filter((e) => (extras.tags(e) ?? tagsOf(e)).includes(tag));
}

/** GET /v1/catalog/service/NAME: one entry per instance; [] for an unknown service, as Consul answers. */
export function catalogService(
  registry: ServiceRegistry,
  name: string,
  tag?: string,
  extras: ConsulExtras = NO_EXTRAS,
): object[] {
  return instances(registry, name, tag, extras).map((e) => ({
    ID: nodeId(nodeName(e)),
    Node: nodeName(e),
    Address: e.address,
    Datacenter: DATACENTER,
    TaggedAddresses: taggedAddresses(e.address),
    NodeMeta: { "weft-source": e.source },
    ServiceKind: "",
    ServiceID: e.id,
    ServiceName: e.service,
    ServiceTags: extras.tags(e) ?? tagsOf(e),
    ServiceAddress: e.address,
    ServiceTaggedAddresses: {},
    ServiceWeights: { Passing: 1, Warning: 1 },
    ServiceMeta: e.labels,
    ServicePort: portOf(registry, e),
    ServiceSocketPath: "",
    ServiceEnableTagOverride: false,
    ServiceProxy: { Mode: "", MeshGateway: {}, Expose: {} },
    ServiceConnect: {},
    CreateIndex: e.createIndex,
    ModifyIndex: e.modifyIndex,
  }));
}

/**
 * GET /v1/health/service/NAME: {Node, Service, Checks} per instance. Every node passes its
 * serfHealth check; the service check is passing or critical as the endpoint is healthy or not.
 * With `passing`, instances with a critical check are left out.
 */
export function healthService(
  registry: ServiceRegistry,
  name: string,
  passing: boolean,
  tag?: string,
  extras: ConsulExtras = NO_EXTRAS,
): object[] {
  return instances(registry, name, tag, extras)
    .filter((e) => !passing || e.healthy)
    .map((e) => {
      const node = nodeName(e);
      const tags = extras.tags(e) ?? tagsOf(e);
      const own = extras.checks(e);
      const check = (id: string, checkName: string, status: string, output: string, service: boolean) => ({
        Node: node,
        CheckID: id,
        Name: checkName,
        Status: status,
        Notes: "",
        Output: output,
        ServiceID: service ? e.id : "",
        ServiceName: service ? e.service : "",
        ServiceTags: service ? tags : [],
        Type: service ? "weft" : "",
        Interval: "",
        Timeout: "",
        ExposedPort: 0,
        Definition: {},
        CreateIndex: e.createIndex,
        ModifyIndex: e.modifyIndex,
      });
      return {
        Node: {
          ID: nodeId(node),
          Node: node,
          Address: e.address,
          Datacenter: DATACENTER,
          TaggedAddresses: taggedAddresses(e.address),
          Meta: { "weft-source": e.source },
          CreateIndex: e.createIndex,
          ModifyIndex: e.modifyIndex,
        },
        Service: {
          ID: e.id,
          Service: e.service,
          Tags: tags,
          Address: e.address,
          TaggedAddresses: {},
          Meta: e.labels,
          Port: portOf(registry, e),
          Weights: { Passing: 1, Warning: 1 },
          EnableTagOverride: false,
          Proxy: { Mode: "", MeshGateway: {}, Expose: {} },
          Connect: {},
          CreateIndex: e.createIndex,
          ModifyIndex: e.modifyIndex,
        },
        Checks: [
          check("serfHealth", "Serf Health Status", "passing", "Agent alive and reachable", false),
          ...(own
            ? own.map((c) => ({
                ...check(c.id, c.name, c.status, c.output, true),
                Notes: c.notes,
                Type: c.type,
              }))
            : [
                check(
                  `service:${e.id}`,
                  `Service '${e.service}' check`,
                  e.healthy ? "passing" : "critical",
                  e.healthy ? "healthy as reported by its source" : `unhealthy as reported by ${e.source}`,
                  true,
                ),
              ]),
        ],
      };
    });
}
