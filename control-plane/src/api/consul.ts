// The registry shaped as Consul's catalog and health APIs return it, so Consul clients and tools
// (consul-template, Prometheus consul_sd, the npm `consul` client) work against Weft unchanged.
// Each endpoint is one Consul service instance on a node named after the endpoint's node.
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { CONSUL_NODE_NAME, type ConsulService, DEFAULT_WEIGHTS } from "../registration/agent-definition";
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

/** A service's TaggedAddresses, Weights and EnableTagOverride as Consul's JSON shows them. */
export interface ConsulServiceFields {
  TaggedAddresses: Record<string, { Address: string; Port: number }>;
  Weights: { Passing: number; Warning: number };
  EnableTagOverride: boolean;
}

/** What the agent API knows beyond the registry: tags and real checks of the services it registered. */
export interface ConsulExtras {
  tags(e: Endpoint): string[] | undefined;
  checks(e: Endpoint): ConsulCheckView[] | undefined;
  /** The metadata its node was registered with (catalog nodes). */
  nodeMeta?(e: Endpoint): Record<string, string> | undefined;
  /** Tagged addresses, weights and EnableTagOverride it was registered with. */
  service?(e: Endpoint): ConsulServiceFields | undefined;
}

/** Consul's view of a registered service's TaggedAddresses ({Address, Port} each: the Go client's
 * map[string]ServiceAddress), Weights and EnableTagOverride. The agent adds lan_ipv4 and wan_ipv4
 * (ipv6 for an IPv6 Address) from the service's own Address and Port when not given, as Consul's
 * agent does; the catalog stores what it was sent. */
export function consulServiceFields(s: ConsulService, agentDefaults: boolean): ConsulServiceFields {
  const tagged: ConsulServiceFields["TaggedAddresses"] = {};
  const family = isIP(s.address);
  if (agentDefaults && family !== 0) {
    const v = family === 4 ? "ipv4" : "ipv6";
    tagged[`lan_${v}`] = { Address: s.address, Port: s.port };
    tagged[`wan_${v}`] = { Address: s.address, Port: s.port };
  }
  for (const [tag, a] of Object.entries(s.taggedAddresses ?? {}))
    tagged[tag] = { Address: a.address, Port: a.port };
  const w = s.weights ?? DEFAULT_WEIGHTS;
  return {
    TaggedAddresses: Object.fromEntries(
      Object.entries(tagged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ),
    Weights: { Passing: w.passing, Warning: w.warning },
    EnableTagOverride: s.enableTagOverride ?? false,
  };
}

/** An instance's fields for services no Consul client registered (a daemon's): Consul's defaults. */
function serviceFieldsOf(e: Endpoint, extras: ConsulExtras): ConsulServiceFields {
  return (
    extras.service?.(e) ?? {
      TaggedAddresses: {},
      Weights: { Passing: DEFAULT_WEIGHTS.passing, Warning: DEFAULT_WEIGHTS.warning },
      EnableTagOverride: false,
    }
  );
}

/** Whether an instance's tags hold `wanted`, ignoring case as Consul does (strings.EqualFold in its
 * catalog's serviceTagFilter): ?tag=canary and canary.NAME.service.consul find a "Canary" instance. */
export function hasTag(own: readonly string[], wanted: string): boolean {
  const w = wanted.toLowerCase();
  return own.some((t) => t === wanted || t.toLowerCase() === w);
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

/** GET /v1/catalog/services: {name: [tags]} for every service with at least one instance. As in
 * Consul, `?filter=` and `?node-meta=` select instances (as /v1/catalog/service/NAME shows them)
 * before they are grouped: a service none of whose instances is selected is left out, and the
 * tags listed are those of the selected ones. */
export function catalogServices(
  registry: ServiceRegistry,
  extras: ConsulExtras = NO_EXTRAS,
  filter?: (item: unknown) => boolean,
  nodeMeta: ReadonlyArray<[string, string]> = [],
): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const e of registry.listAllEndpoints()) {
    if (!nodeMetaMatches(nodeMetaOf(e, extras), nodeMeta)) continue;
    if (filter && !filter(catalogEntry(registry, e, extras))) continue;
    out[e.service] ??= new Set();
    for (const t of extras.tags(e) ?? tagsOf(e)) out[e.service]!.add(t);
  }
  return Object.fromEntries(Object.entries(out).map(([name, tags]) => [name, [...tags].sort()]));
}

/** An instance's node metadata: what its node was registered with, and where Weft learnt of it. */
function nodeMetaOf(e: Endpoint, extras: ConsulExtras): Record<string, string> {
  return { ...extras.nodeMeta?.(e), "weft-source": e.source };
}

/** Whether `meta` holds every pair of a `?node-meta=` query. */
export function nodeMetaMatches(
  meta: Record<string, string>,
  wanted: ReadonlyArray<[string, string]>,
): boolean {
  return wanted.every(([k, v]) => meta[k] === v);
}

/** Consul's `?node-meta=KEY:VALUE` (repeatable, all must hold), read from the query. */
export function nodeMetaQuery(query: URLSearchParams): Array<[string, string]> {
  return query.getAll("node-meta").map((pair) => {
    const colon = pair.indexOf(":");
    return colon < 0 ? [pair, ""] : [pair.slice(0, colon), pair.slice(colon + 1)];
  });
}

/** The instances of NAME that carry every tag in `tags` (Consul's repeated `?tag=`) and, when
 * given, every node-meta pair. */
export function instances(
  registry: ServiceRegistry,
  name: string,
  tags: readonly string[],
  extras: ConsulExtras,
  nodeMeta: ReadonlyArray<[string, string]> = [],
): Endpoint[] {
  // Consul finds a service here whatever the case of the name asked (its catalog indexes names
  // lower-cased; only /v1/catalog/services lists each spelling apart): every spelling's instances,
  // each with its own ServiceName.
  const all = registry.serviceNamesIgnoringCase(name).flatMap((n) => registry.listEndpoints(n));
  if (tags.length === 0 && nodeMeta.length === 0) return all;
  return all.filter((e) => {
    const own = extras.tags(e) ?? tagsOf(e);
    return tags.every((t) => hasTag(own, t)) && nodeMetaMatches(nodeMetaOf(e, extras), nodeMeta);
  });
}

/** GET /v1/catalog/service/NAME: one entry per instance; [] for an unknown service, as Consul answers. */
export function catalogService(
  registry: ServiceRegistry,
  name: string,
  tags: readonly string[] = [],
  extras: ConsulExtras = NO_EXTRAS,
  nodeMeta: ReadonlyArray<[string, string]> = [],
): object[] {
  return instances(registry, name, tags, extras, nodeMeta).map((e) => catalogEntry(registry, e, extras));
}

/** One instance as /v1/catalog/service/NAME lists it (Consul's CatalogService). */
function catalogEntry(registry: ServiceRegistry, e: Endpoint, extras: ConsulExtras): object {
  const fields = serviceFieldsOf(e, extras);
  return {
    ID: nodeId(nodeName(e)),
    Node: nodeName(e),
    Address: e.address,
    Datacenter: DATACENTER,
    TaggedAddresses: taggedAddresses(e.address),
    NodeMeta: nodeMetaOf(e, extras),
    ServiceKind: "",
    ServiceID: e.id,
    ServiceName: e.service,
    ServiceTags: extras.tags(e) ?? tagsOf(e),
    ServiceAddress: e.address,
    ServiceTaggedAddresses: fields.TaggedAddresses,
    ServiceWeights: fields.Weights,
    ServiceMeta: e.labels,
    ServicePort: portOf(registry, e),
    ServiceSocketPath: "",
    ServiceEnableTagOverride: fields.EnableTagOverride,
    ServiceProxy: { Mode: "", MeshGateway: {}, Expose: {} },
    ServiceConnect: {},
    CreateIndex: e.createIndex,
    ModifyIndex: e.modifyIndex,
  };
}

/** A check as the health endpoints list it. */
interface CheckEntry {
  Node: string;
  CheckID: string;
  Name: string;
  Status: string;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  Type: string;
  Interval: string;
  Timeout: string;
  ExposedPort: number;
  Definition: object;
  CreateIndex: number;
  ModifyIndex: number;
}

const CHECK_STATES = ["any", "passing", "warning", "critical"];

/** Every node's own check: Weft has no gossip, so a node that holds instances is alive. */
function serfHealth(node: string, createIndex = 1, modifyIndex = 1): CheckEntry {
  return {
    Node: node,
    CheckID: "serfHealth",
    Name: "Serf Health Status",
    Status: "passing",
    Notes: "",
    Output: "Agent alive and reachable",
    ServiceID: "",
    ServiceName: "",
    ServiceTags: [],
    Type: "",
    Interval: "",
    Timeout: "",
    ExposedPort: 0,
    Definition: {},
    CreateIndex: createIndex,
    ModifyIndex: modifyIndex,
  };
}

/** An instance's service checks: those it was registered with through the agent API, else one
 * check passing or critical as its source reports it healthy or not. */
function serviceChecks(e: Endpoint, extras: ConsulExtras): CheckEntry[] {
  const tags = extras.tags(e) ?? tagsOf(e);
  const check = (id: string, name: string, status: string, output: string, notes = "", type = "weft") => ({
    ...serfHealth(nodeName(e), e.createIndex, e.modifyIndex),
    CheckID: id,
    Name: name,
    Status: status,
    Notes: notes,
    Output: output,
    ServiceID: e.id,
    ServiceName: e.service,
    ServiceTags: tags,
    Type: type,
  });
  const own = extras.checks(e);
  if (own) return own.map((c) => check(c.id, c.name, c.status, c.output, c.notes, c.type));
  return [
    check(
      `service:${e.id}`,
      `Service '${e.service}' check`,
      e.healthy ? "passing" : "critical",
      e.healthy ? "healthy as reported by its source" : `unhealthy as reported by ${e.source}`,
    ),
  ];
}

/** The worst status of an instance's checks (its node's serfHealth always passes), Consul's
 * AggregatedStatus: what its DNS answers and SRV weights go by. */
export function instanceStatus(e: Endpoint, extras: ConsulExtras): "passing" | "warning" | "critical" {
  const statuses = serviceChecks(e, extras).map((c) => c.Status);
  if (statuses.includes("critical")) return "critical";
  if (statuses.includes("warning")) return "warning";
  // Anything else Consul counts as neither (maintenance is not a status Weft has).
  return statuses.every((s) => s === "passing") ? "passing" : "critical";
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
  tags: readonly string[] = [],
  extras: ConsulExtras = NO_EXTRAS,
  nodeMeta: ReadonlyArray<[string, string]> = [],
): object[] {
  return instances(registry, name, tags, extras, nodeMeta)
    .filter((e) => !passing || e.healthy)
    .map((e) => {
      const node = nodeName(e);
      return {
        Node: {
          ID: nodeId(node),
          Node: node,
          Address: e.address,
          Datacenter: DATACENTER,
          TaggedAddresses: taggedAddresses(e.address),
          Meta: nodeMetaOf(e, extras),
          CreateIndex: e.createIndex,
          ModifyIndex: e.modifyIndex,
        },
        Service: agentService(registry, e, extras),
        Checks: [serfHealth(node, e.createIndex, e.modifyIndex), ...serviceChecks(e, extras)],
      };
    });
}

/** An instance as the agent and node views show a service. */
export function agentService(
  registry: ServiceRegistry,
  e: Endpoint,
  extras: ConsulExtras = NO_EXTRAS,
): object {
  const fields = serviceFieldsOf(e, extras);
  return {
    ID: e.id,
    Service: e.service,
    Tags: extras.tags(e) ?? tagsOf(e),
    Address: e.address,
    TaggedAddresses: fields.TaggedAddresses,
    Meta: e.labels,
    Port: portOf(registry, e),
    Weights: fields.Weights,
    EnableTagOverride: fields.EnableTagOverride,
    Proxy: { Mode: "", MeshGateway: {}, Expose: {} },
    Connect: {},
    CreateIndex: e.createIndex,
    ModifyIndex: e.modifyIndex,
  };
}

/** GET /v1/health/checks/NAME: the service checks of every instance of NAME ([] for an unknown one). */
export function healthChecks(
  registry: ServiceRegistry,
  name: string,
  extras: ConsulExtras = NO_EXTRAS,
): object[] {
  return instances(registry, name, [], extras).flatMap((e) => serviceChecks(e, extras));
}

/** Checks `state` of GET /v1/health/state/STATE, with Consul's words for a wrong one. */
export function checkState(state: string): string | undefined {
  return CHECK_STATES.includes(state)
    ? undefined
    : `Invalid check state "${state}"; use ${CHECK_STATES.join(", ")}`;
}

/** GET /v1/health/state/STATE: every check in that state (any: all of them), each node's serfHealth
 * once; what alerting on Consul polls (`/v1/health/state/critical`). */
export function healthState(
  registry: ServiceRegistry,
  state: string,
  extras: ConsulExtras = NO_EXTRAS,
): object[] {
  return healthNodeChecks(registry, undefined, extras).filter((c) => state === "any" || c.Status === state);
}

/** GET /v1/health/node/NODE: the node's serfHealth and its instances' checks ([] for an unknown node). */
export function healthNode(
  registry: ServiceRegistry,
  node: string,
  extras: ConsulExtras = NO_EXTRAS,
): object[] {
  return healthNodeChecks(registry, node, extras);
}

function healthNodeChecks(
  registry: ServiceRegistry,
  only: string | undefined,
  extras: ConsulExtras,
): CheckEntry[] {
  const nodes = new Map<string, CheckEntry[]>();
  for (const e of registry.listAllEndpoints()) {
    const node = nodeName(e);
    if (only !== undefined && node !== only) continue;
    let checks = nodes.get(node);
    if (!checks) {
      checks = [serfHealth(node)];
      nodes.set(node, checks);
    }
    checks.push(...serviceChecks(e, extras));
  }
  return [...nodes.values()].flat();
}

/** Checks a :node parameter. */
export function nodeParam(node: string): string | undefined {
  return CONSUL_NODE_NAME.test(node)
    ? undefined
    : `"${node}" is not a valid node name (letters, digits, '.', '_', '-')`;
}

/** The instances on one node, for GET /v1/catalog/node/NODE. */
export function instancesOn(registry: ServiceRegistry, node: string): Endpoint[] {
  return registry.listAllEndpoints().filter((e) => nodeName(e) === node);
}
