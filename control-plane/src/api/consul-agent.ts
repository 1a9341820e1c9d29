// Consul's agent, status and node endpoints, so that Consul clients (the npm `consul` client,
// consul-template, service registrars) can register services with health checks and probe the agent:
// PUT /v1/agent/service/register, /deregister/ID, /v1/agent/check/pass|warn|fail|update/ID,
// GET /v1/agent/services, /v1/agent/checks, /v1/agent/self, /v1/agent/members,
// /v1/agent/health/service/id/ID and /name/NAME (200, 429 or 503 as the checks are), /v1/status/leader|peers, /v1/catalog/nodes,
// /v1/catalog/node/NODE and /v1/catalog/node-services/NODE.
import { hostname } from "node:os";
import { parseAgentService } from "../registration/agent-definition";
import { AgentError, type AgentSource } from "../registration/agent-source";
import { CATALOG_SOURCE, type CatalogSource } from "../registration/catalog-source";
import type { ServiceRegistry } from "../registry/types";
import {
  agentService,
  type ConsulExtras,
  consulServiceFields,
  DATACENTER,
  instancesOn,
  nodeId,
  nodeMetaMatches,
  nodeMetaQuery,
  nodeParam,
  taggedAddresses,
} from "./consul";
import { HEALTH_CHECK, NODE, NODE_SERVICE } from "./consul-filter-schema";
import type { ItemFilter, Route } from "./http-server";
import type { RequestBody } from "./request-body";
import { HttpError } from "./respond";

/** The Consul version Weft answers like; clients gate features on it. */
export const CONSUL_VERSION = "1.15.0";

const CHECK_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,160}$/;
const checkParam = (v: string) =>
  CHECK_ID.test(v) ? undefined : `"${v}" is not a valid ID (letters, digits, '.', '_', ':', '-')`;

/** Agent failures as HTTP statuses: unknown IDs 404 (as Consul), wrong check kinds 400, a full agent 429. */
function agentCall(fn: () => void): null {
  try {
    fn();
  } catch (err) {
    if (err instanceof AgentError) {
      const status = {
        NOT_TTL: 400,
        BAD_ADDRESS: 400,
        TOO_MANY: 429,
        UNKNOWN_CHECK: 404,
        UNKNOWN_SERVICE: 404,
      }[err.code];
      throw new HttpError(status, err.message);
    }
    throw err;
  }
  return null;
}

/** The note of a pass/warn/fail: `?note=`. */
function ttlOutput(query: URLSearchParams): string {
  const note = query.get("note") ?? "";
  if (note.length > 4096) throw new HttpError(400, "note is longer than 4096 characters");
  return note;
}

function updateBody(body: RequestBody): { status: "passing" | "warning" | "critical"; output: string } {
  const value = body.json();
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'the body must be an object like {"Status": "passing", "Output": "..."}');
  }
  const f = new Map(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v as unknown]));
  const status = f.get("status");
  if (status !== "passing" && status !== "warning" && status !== "critical") {
    throw new HttpError(400, 'Status must be "passing", "warning" or "critical"');
  }
  const output = f.get("output") ?? "";
  if (typeof output !== "string") throw new HttpError(400, "Output must be a string");
  return { status, output: output.slice(0, 4096) };
}

/** Tags and checks of agent-registered endpoints, for the catalog and health views. */
export function agentConsulExtras(agent: AgentSource): ConsulExtras {
  return {
    tags: (e) => agent.serviceOf(e)?.definition.tags,
    service: (e) => {
      const s = agent.serviceOf(e);
      return s ? consulServiceFields(s.definition, true) : undefined;
    },
    checks: (e) => {
      const s = agent.serviceOf(e);
      if (!s || s.definition.checks.length === 0) return undefined;
      return s.definition.checks.map((c) => ({
        id: c.id,
        name: c.name,
        status: s.results[c.id]?.status ?? "critical",
        output: s.results[c.id]?.output ?? "",
        notes: c.notes,
        type: c.kind,
      }));
    },
  };
}

function agentServices(agent: AgentSource): Record<string, object> {
  return Object.fromEntries(
    agent.list().map(({ definition: d }) => [
      d.id,
      {
        Kind: "",
        ID: d.id,
        Service: d.name,
        Tags: d.tags,
        Meta: d.meta,
        Port: d.port,
        Address: d.address,
        ...consulServiceFields(d, true),
        Datacenter: DATACENTER,
      },
    ]),
  );
}

function agentChecks(agent: AgentSource): Record<string, object> {
  const out: Record<string, object> = {};
  for (const { definition: d, results } of agent.list()) {
    for (const c of d.checks) {
      out[c.id] = {
        Node: agent.nodeName,
        CheckID: c.id,
        Name: c.name,
        Status: results[c.id]?.status ?? "critical",
        Notes: c.notes,
        Output: results[c.id]?.output ?? "",
        ServiceID: d.id,
        ServiceName: d.name,
        ServiceTags: d.tags,
        Type: c.kind,
        Interval: c.intervalMs ? `${c.intervalMs}ms` : "",
        Timeout: c.kind === "ttl" ? "" : `${c.timeoutMs}ms`,
        ExposedPort: 0,
        Definition: {},
      };
    }
  }
  return out;
}

/** Every node that holds an endpoint, plus the agent's own, with its address (the agent's, else its
 * first endpoint's). */
function nodeAddresses(
  registry: ServiceRegistry,
  agent: AgentSource,
  catalog?: CatalogSource,
): Map<string, string> {
  const nodes = new Map<string, string>([[agent.nodeName, agent.address]]);
  for (const n of catalog?.list() ?? []) if (!nodes.has(n.node)) nodes.set(n.node, n.address);
  for (const e of registry.listAllEndpoints()) if (e.node && !nodes.has(e.node)) nodes.set(e.node, e.address);
  return nodes;
}

function nodeView(node: string, address: string, meta: Record<string, string> = {}): object {
  return {
    ID: nodeId(node),
    Node: node,
    Address: address,
    Datacenter: DATACENTER,
    TaggedAddresses: taggedAddresses(address),
    Meta: meta,
    CreateIndex: 1,
    ModifyIndex: 1,
  };
}

/** GET /v1/catalog/nodes[?node-meta=K:V]: every node, a catalog node with its registered metadata. */
function catalogNodes(
  registry: ServiceRegistry,
  agent: AgentSource,
  catalog: CatalogSource | undefined,
  wanted: ReadonlyArray<[string, string]>,
): object[] {
  const metaOf = new Map((catalog?.list() ?? []).map((n) => [n.node, n.meta]));
  return [...nodeAddresses(registry, agent, catalog).entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .filter(([node]) => nodeMetaMatches(metaOf.get(node) ?? {}, wanted))
    .map(([node, address]) => nodeView(node, address, metaOf.get(node)));
}

/** GET /v1/catalog/node/NODE ({Node, Services: {ID: service}}, null for an unknown node, as Consul)
 * and /v1/catalog/node-services/NODE (Services as a list); `?filter=` selects among the Services. */
function catalogNode(
  registry: ServiceRegistry,
  agent: AgentSource,
  catalog: CatalogSource | undefined,
  extras: ConsulExtras,
  node: string,
  asList: boolean,
  filter: ItemFilter = () => true,
): object | null {
  const on = instancesOn(registry, node);
  const address = nodeAddresses(registry, agent, catalog).get(node) ?? on[0]?.address;
  if (address === undefined) return null;
  const services = on.map((e) => agentService(registry, e, extras) as { ID: string }).filter(filter);
  return {
    Node: nodeView(node, address, catalog?.list().find((n) => n.node === node)?.meta),
    Services: asList ? services : Object.fromEntries(services.map((s) => [s.ID, s])),
  };
}

/** A Serf member as /v1/agent/members and /v1/agent/self show one. */
function member(name: string, address: string, role: "consul" | "node"): object {
  return {
    Name: name,
    Addr: address,
    Port: 8301,
    Tags: { dc: DATACENTER, role, ...(role === "consul" ? { bootstrap: "1" } : {}) },
    Status: 1,
    ProtocolMin: 1,
    ProtocolMax: 5,
    ProtocolCur: 2,
    DelegateMin: 2,
    DelegateMax: 5,
    DelegateCur: 4,
  };
}

/** GET /v1/agent/members (`consul members`): the control plane as the one server, and every other
 * node that holds endpoints (a daemon) as a client, alive while it does. */
function agentMembers(registry: ServiceRegistry, agent: AgentSource): object[] {
  const nodes = new Map<string, string>([[agent.nodeName, agent.address]]);
  // A node registered through the catalog (a database outside the mesh) runs no agent: not a member.
  for (const e of registry.listAllEndpoints())
    if (e.node && e.source !== CATALOG_SOURCE && !nodes.has(e.node)) nodes.set(e.node, e.address);
  return [...nodes.entries()].map(([node, address]) =>
    member(node, address, node === agent.nodeName ? "consul" : "node"),
  );
}

type Aggregated = "passing" | "warning" | "critical";

/** Consul's worst-of for a local service's checks (none: passing). */
function aggregate(statuses: string[]): Aggregated {
  if (statuses.includes("critical")) return "critical";
  if (statuses.includes("warning")) return "warning";
  return "passing";
}

/** The HTTP status /v1/agent/health/service answers with: load balancers read only this. */
function healthStatusOf(body: unknown): number {
  const entries = (Array.isArray(body) ? body : [body]) as Array<{ AggregatedStatus: Aggregated }>;
  const worst = aggregate(entries.map((e) => e.AggregatedStatus));
  return worst === "critical" ? 503 : worst === "warning" ? 429 : 200;
}

/** `?format=text`: the worst status alone, as Consul answers it to scripts (`curl -s ...`). */
function healthTextOf(body: unknown): string {
  const entries = (Array.isArray(body) ? body : [body]) as Array<{ AggregatedStatus: Aggregated }>;
  return aggregate(entries.map((e) => e.AggregatedStatus));
}

/** The agent's services whose ID, or name, is `ref`, each with its checks and their worst status,
 * as /v1/agent/health/service answers. */
function agentHealth(agent: AgentSource, by: "id" | "name", ref: string): object[] {
  const services = Object.values(agentServices(agent)) as Array<{ ID: string; Service: string }>;
  const checks = Object.values(agentChecks(agent)) as Array<{ ServiceID: string; Status: string }>;
  return services
    .filter((s) => (by === "id" ? s.ID : s.Service) === ref)
    .map((s) => {
      const own = checks.filter((c) => c.ServiceID === s.ID);
      return { AggregatedStatus: aggregate(own.map((c) => c.Status)), Service: s, Checks: own };
    });
}

function agentSelf(agent: AgentSource, leader: () => string): object {
  return {
    Config: {
      Datacenter: DATACENTER,
      PrimaryDatacenter: DATACENTER,
      NodeName: agent.nodeName,
      NodeID: nodeId(agent.nodeName),
      Revision: "weft",
      Server: true,
      Version: CONSUL_VERSION,
    },
    DebugConfig: {},
    Coord: null,
    Member: member(agent.nodeName, agent.address, "consul"),
    Stats: {},
    Meta: { "weft-leader": leader() },
    xDS: {},
  };
}

/**
 * The routes, for createApiServer's extraRoutes. `leader` gives the HTTP address Consul clients see
 * as the leader (Weft has one control plane, so it always leads).
 */
export function consulAgentRoutes(
  agent: AgentSource,
  registry: ServiceRegistry,
  leader: () => string,
  /** Nodes registered through the catalog, and the tags and checks of every source's endpoints. */
  o: { catalog?: CatalogSource; extras?: ConsulExtras } = {},
): Route[] {
  const { catalog, extras = agentConsulExtras(agent) } = o;
  const ttl =
    (status: "passing" | "warning" | "critical"): Route["answer"] =>
    ([id], q) =>
      agentCall(() => agent.updateTtl(id!, status, ttlOutput(q)));
  return [
    {
      pattern: ["v1", "agent", "service", "register"],
      consul: true,
      method: "PUT",
      answer: (_p, _q, body) => {
        const parsed = parseAgentService(body.json());
        if (!parsed.ok) throw new HttpError(400, `Invalid service definition: ${parsed.error}`);
        return agentCall(() => agent.register(parsed.value));
      },
    },
    {
      pattern: ["v1", "agent", "service", "deregister", ":id"],
      consul: true,
      method: "PUT",
      checkParam,
      answer: ([id]) => agentCall(() => agent.deregister(id!)),
    },
    {
      pattern: ["v1", "agent", "check", "pass", ":id"],
      consul: true,
      method: "PUT",
      checkParam,
      answer: ttl("passing"),
    },
    {
      pattern: ["v1", "agent", "check", "warn", ":id"],
      consul: true,
      method: "PUT",
      checkParam,
      answer: ttl("warning"),
    },
    {
      pattern: ["v1", "agent", "check", "fail", ":id"],
      consul: true,
      method: "PUT",
      checkParam,
      answer: ttl("critical"),
    },
    {
      pattern: ["v1", "agent", "check", "update", ":id"],
      consul: true,
      method: "PUT",
      checkParam,
      answer: ([id], _q, body) => {
        const u = updateBody(body);
        return agentCall(() => agent.updateTtl(id!, u.status, u.output));
      },
    },
    {
      pattern: ["v1", "agent", "services"],
      consul: true,
      filterValues: true,
      filterSchema: NODE_SERVICE,
      answer: () => agentServices(agent),
    },
    {
      pattern: ["v1", "agent", "service", ":id"],
      consul: true,
      checkParam,
      answer: ([id]) => {
        const found = agentServices(agent)[id!];
        if (!found)
          throw new HttpError(404, `Unknown service ID "${id}"; list them with GET /v1/agent/services`);
        return found;
      },
    },
    {
      pattern: ["v1", "agent", "checks"],
      consul: true,
      filterValues: true,
      filterSchema: HEALTH_CHECK,
      answer: () => agentChecks(agent),
    },
    { pattern: ["v1", "agent", "self"], consul: true, answer: () => agentSelf(agent, leader) },
    { pattern: ["v1", "agent", "members"], consul: true, answer: () => agentMembers(registry, agent) },
    {
      pattern: ["v1", "agent", "health", "service", "id", ":id"],
      consul: true,
      checkParam,
      statusOf: healthStatusOf,
      textOf: healthTextOf,
      answer: ([id]) => {
        const [found] = agentHealth(agent, "id", id!);
        if (!found)
          throw new HttpError(404, `Unknown service ID "${id}"; list them with GET /v1/agent/services`);
        return found;
      },
    },
    {
      pattern: ["v1", "agent", "health", "service", "name", ":name"],
      consul: true,
      statusOf: healthStatusOf,
      textOf: healthTextOf,
      answer: ([name]) => {
        const found = agentHealth(agent, "name", name!);
        if (found.length === 0)
          throw new HttpError(
            404,
            `No service named "${name}" is registered with this agent (GET /v1/agent/services)`,
          );
        return found;
      },
    },
    { pattern: ["v1", "status", "leader"], consul: true, answer: () => leader() },
    { pattern: ["v1", "status", "peers"], consul: true, answer: () => [leader()] },
    {
      pattern: ["v1", "catalog", "nodes"],
      consul: true,
      filterSchema: NODE,
      answer: (_params, q) => catalogNodes(registry, agent, catalog, nodeMetaQuery(q)),
    },
    {
      pattern: ["v1", "catalog", "node", ":node"],
      consul: true,
      checkParam: nodeParam,
      filterSchema: NODE_SERVICE,
      filterInAnswer: true,
      answer: ([node], _q, _body, filter) =>
        catalogNode(registry, agent, catalog, extras, node!, false, filter),
    },
    {
      pattern: ["v1", "catalog", "node-services", ":node"],
      consul: true,
      checkParam: nodeParam,
      filterSchema: NODE_SERVICE,
      filterInAnswer: true,
      answer: ([node], _q, _body, filter) =>
        catalogNode(registry, agent, catalog, extras, node!, true, filter),
    },
  ];
}

/** Consul's node name for this control plane: the host's name. */
export function defaultAgentNode(): string {
  return hostname() || "weft";
}
