// Networks in Docker's shapes: the daemon's bridge as "weft", and the named networks `docker network
// create` and docker-compose make (engine/networks.ts). Every one shows the bridge's subnet: a named
// network groups containers on that bridge (network/named-networks.ts says why), and create says so
// in its Warning. create, connect, disconnect, rm and prune work on named networks; "weft" cannot go.
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NetworkInfo } from "../../engine/networks";
import type { ContainerState } from "../../engine/types";
import type { BridgeInfo } from "../../network/bridge";
import { readJson } from "../http";
import { NETWORK, type NetworkView } from "./container-json";
import { strMap } from "./create-body";
import type { DockerEngine } from "./engine";
import { badRequest, dockerError, parseFilters, pruneFilters, sendDockerJson, sendEmpty } from "./wire";

const SHARED_BRIDGE_WARNING =
  "weft puts every network on its one bridge: containers on other networks can still reach this one's services through the mesh";

/** A stable id: the same bridge always has the same one. */
function bridgeNetworkId(net: BridgeInfo): string {
  return createHash("sha256").update(`weft-network:${net.bridge}:${net.subnet}`).digest("hex");
}

/** The default network and the named ones, with their members. */
interface Listed {
  name: string;
  id: string;
  created: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  attachable: boolean;
  builtin: boolean;
  containers: ContainerState[];
}

async function allNetworks(engine: DockerEngine): Promise<Listed[]> {
  // An engine without one (the unit tests' fake) has none to list.
  const bridge = engine.network?.();
  if (!bridge) return [];
  const named = engine.listNetworks?.() ?? [];
  const onNamed = new Set(named.flatMap((n) => n.containers.map((c) => c.id)));
  const defaultMembers = (await engine.list(true)).filter((c) => !onNamed.has(c.id));
  return [
    {
      name: NETWORK,
      id: bridgeNetworkId(bridge),
      created: "0001-01-01T00:00:00Z",
      labels: {},
      options: { "com.docker.network.bridge.name": bridge.bridge },
      attachable: false,
      builtin: true,
      containers: defaultMembers,
    },
    ...named.map((n: NetworkInfo) => ({ ...n, builtin: false })),
  ];
}

/** The engine's named-network verbs; 501 for an engine without them. */
function namedNetworks(engine: DockerEngine) {
  const { createNetwork, removeNetwork, connect, disconnect } = engine;
  if (!createNetwork || !removeNetwork || !connect || !disconnect)
    throw dockerError(501, "this engine has no named networks");
  return {
    create: createNetwork.bind(engine),
    remove: removeNetwork.bind(engine),
    connect: connect.bind(engine),
    disconnect: disconnect.bind(engine),
  };
}

/** The bridge and every network's id, for containers' network entries. */
export function networkView(engine: DockerEngine): NetworkView {
  const bridge = engine.network?.();
  const ids = new Map<string, string>();
  if (bridge) ids.set(NETWORK, bridgeNetworkId(bridge));
  // docker ps and inspect go on answering while the networks' file is unreadable (network ls says why).
  const named = (() => {
    try {
      return engine.listNetworks?.() ?? [];
    } catch {
      return [];
    }
  })();
  for (const n of named) ids.set(n.name, n.id);
  return { bridge, ids };
}

function networkJson(n: Listed, bridge: BridgeInfo, withContainers: boolean) {
  const containers: Record<string, object> = {};
  // Docker lists the running ones: a stopped container has no endpoint.
  for (const c of withContainers ? n.containers.filter((c) => c.status === "running") : []) {
    containers[c.id] = {
      Name: c.name,
      EndpointID: c.hostVeth,
      MacAddress: "",
      IPv4Address: `${c.address}/${bridge.prefixLength}`,
      IPv6Address: "",
    };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: "local",
    Driver: "bridge",
    EnableIPv6: false,
    IPAM: { Driver: "default", Options: null, Config: [{ Subnet: bridge.subnet, Gateway: bridge.gateway }] },
    Internal: false,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: containers,
    Options: n.options,
    Labels: n.labels,
  };
}

/** Docker's label filter: "KEY" (the label is set) or "KEY=VALUE". */
function labelsMatch(wanted: string[], labels: Record<string, string>): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf("=");
    return eq < 0 ? w in labels : labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

const LIST_FILTERS = ["name", "id", "driver", "label", "type", "scope", "dangling"];

function matches(filters: Map<string, string[]>, n: Listed): boolean {
  const any = (key: string, test: (v: string) => boolean) =>
    (filters.get(key) ?? []).length === 0 || (filters.get(key) ?? []).some(test);
  return (
    any("name", (v) => n.name.includes(v)) &&
    any("id", (v) => n.id.startsWith(v)) &&
    any("driver", (v) => v === "bridge") &&
    any("scope", (v) => v === "local") &&
    any("type", (v) => v === (n.builtin ? "builtin" : "custom")) &&
    any("dangling", (v) => (v === "true" || v === "1") === (n.containers.length === 0 && !n.builtin)) &&
    labelsMatch(filters.get("label") ?? [], n.labels)
  );
}

/** GET /networks (filters name, id, driver, label, type, scope, dangling). */
export async function listNetworks(engine: DockerEngine, query: URLSearchParams) {
  const filters = parseFilters(query);
  for (const key of filters.keys()) {
    if (!LIST_FILTERS.includes(key)) throw badRequest(`invalid filter '${key}'`);
  }
  const bridge = engine.network?.();
  if (!bridge) return [];
  return (await allNetworks(engine))
    .filter((n) => matches(filters, n))
    .map((n) => networkJson(n, bridge, false));
}

/** The network `ref` names (its name, its id or an id prefix); 404 in Docker's words otherwise. */
async function resolve(engine: DockerEngine, ref: string): Promise<{ n: Listed; bridge: BridgeInfo }> {
  const bridge = engine.network?.();
  const all = bridge ? await allNetworks(engine) : [];
  const exact = all.find((n) => n.name === ref || n.id === ref);
  const byPrefix = all.filter((n) => n.id.startsWith(ref));
  if (!exact && byPrefix.length > 1)
    throw badRequest(`network id prefix ${ref} is ambiguous: give more digits`);
  const n = exact ?? byPrefix[0];
  // Not found, in the words `docker inspect NAME` looks for before it tries the next kind of object.
  if (!bridge || !n) throw dockerError(404, `network ${ref} not found`);
  return { n, bridge };
}

/** GET /networks/{name or id}: with the running containers' addresses. */
export async function inspectNetwork(engine: DockerEngine, ref: string) {
  const { n, bridge } = await resolve(engine, ref);
  return networkJson(n, bridge, true);
}

/** POST /networks/create: a named network on the bridge (driver bridge; no subnet of its own). */
export async function createNetwork(engine: DockerEngine, req: IncomingMessage, res: ServerResponse) {
  const body = ((await readJson(req)) ?? {}) as Record<string, unknown>;
  if (typeof body.Name !== "string" || body.Name === "") throw badRequest("Name is required");
  if (body.Driver !== undefined && body.Driver !== "" && body.Driver !== "bridge") {
    throw badRequest(
      `network driver "${String(body.Driver)}" is not supported: weft has the bridge driver only`,
    );
  }
  if (body.Internal === true) {
    throw badRequest(
      "internal networks are not supported: every weft container can reach the mesh's services",
    );
  }
  if (body.EnableIPv6 === true) throw badRequest("IPv6 networks are not supported: weft's bridge is IPv4");
  const ipam = (body.IPAM ?? {}) as { Config?: unknown };
  if (Array.isArray(ipam.Config) && ipam.Config.length > 0) {
    throw badRequest(
      "a subnet, range or gateway of its own is not supported: every weft network shares the bridge's subnet (see docker network inspect weft)",
    );
  }
  const n = namedNetworks(engine).create({
    name: body.Name,
    labels: strMap(body.Labels, "Labels"),
    options: strMap(body.Options, "Options"),
    attachable: body.Attachable === true,
  });
  sendDockerJson(res, 201, { Id: n.id, Warning: SHARED_BRIDGE_WARNING });
}

/** DELETE /networks/{id}: a named network with no containers; the bridge's own cannot go. */
export async function removeNetwork(engine: DockerEngine, res: ServerResponse, ref: string) {
  const { n } = await resolve(engine, ref);
  if (n.builtin) throw dockerError(403, `${NETWORK} is a pre-defined network and cannot be removed`);
  namedNetworks(engine).remove(n.id);
  sendEmpty(res, 204);
}

/** POST /networks/prune: removes the named networks no container is on. */
export async function pruneNetworks(engine: DockerEngine, query: URLSearchParams) {
  const labels = pruneFilters(query, "network", "label");
  const removed: string[] = [];
  for (const n of await allNetworks(engine)) {
    if (n.builtin || n.containers.length > 0 || !labelsMatch(labels, n.labels)) continue;
    namedNetworks(engine).remove(n.id);
    removed.push(n.name);
  }
  return { NetworksDeleted: removed };
}

/** POST /networks/{id}/connect: {Container, EndpointConfig: {Aliases}}. */
export async function connectNetwork(
  engine: DockerEngine,
  req: IncomingMessage,
  res: ServerResponse,
  ref: string,
) {
  const body = ((await readJson(req)) ?? {}) as {
    Container?: unknown;
    EndpointConfig?: { Aliases?: unknown };
  };
  if (typeof body.Container !== "string" || body.Container === "") throw badRequest("Container is required");
  const { n } = await resolve(engine, ref);
  if (n.builtin) {
    throw dockerError(
      403,
      `every container is on ${NETWORK} unless it is on a named network; nothing to connect`,
    );
  }
  const aliases = body.EndpointConfig?.Aliases ?? [];
  if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === "string")) {
    throw badRequest("EndpointConfig.Aliases must be an array of strings");
  }
  await namedNetworks(engine).connect(body.Container, n.id, aliases as string[]);
  sendEmpty(res, 200);
}

/** POST /networks/{id}/disconnect: {Container, Force}. */
export async function disconnectNetwork(
  engine: DockerEngine,
  req: IncomingMessage,
  res: ServerResponse,
  ref: string,
) {
  const body = ((await readJson(req)) ?? {}) as { Container?: unknown };
  if (typeof body.Container !== "string" || body.Container === "") throw badRequest("Container is required");
  const { n } = await resolve(engine, ref);
  if (n.builtin)
    throw dockerError(403, `a container cannot leave ${NETWORK}: connect it to a named network instead`);
  await namedNetworks(engine).disconnect(body.Container, n.id);
  sendEmpty(res, 200);
}
