// The one network in Docker's shapes: every container joins the daemon's bridge, which `docker
// network ls` and `inspect` show as "weft" (driver bridge, its subnet and gateway, the running
// containers' addresses). Weft makes no other networks: create and rm say so.
import { createHash } from "node:crypto";
import type { BridgeInfo } from "../../network/bridge";
import { NETWORK } from "./container-json";
import type { DockerEngine } from "./engine";
import { badRequest, dockerError, parseFilters } from "./wire";

/** A stable id: the same bridge always has the same one. */
function networkId(net: BridgeInfo): string {
  return createHash("sha256").update(`weft-network:${net.bridge}:${net.subnet}`).digest("hex");
}

function networkJson(net: BridgeInfo, containers: Record<string, object>) {
  return {
    Name: NETWORK,
    Id: networkId(net),
    Created: "0001-01-01T00:00:00Z",
    Scope: "local",
    Driver: "bridge",
    EnableIPv6: false,
    IPAM: { Driver: "default", Options: null, Config: [{ Subnet: net.subnet, Gateway: net.gateway }] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: containers,
    Options: { "com.docker.network.bridge.name": net.bridge },
    Labels: {},
  };
}

/** GET /networks (filters name, id and driver). */
export function listNetworks(engine: DockerEngine, query: URLSearchParams) {
  const filters = parseFilters(query);
  for (const key of filters.keys()) {
    if (!["name", "id", "driver"].includes(key)) throw badRequest(`invalid filter '${key}'`);
  }
  // An engine without one (the unit tests' fake) has none to list.
  const net = engine.network?.();
  if (!net) return [];
  const id = networkId(net);
  const keep =
    (filters.get("name") ?? [NETWORK]).some((n) => NETWORK.includes(n)) &&
    (filters.get("id") ?? [id]).some((p) => id.startsWith(p)) &&
    (filters.get("driver") ?? ["bridge"]).includes("bridge");
  return keep ? [networkJson(net, {})] : [];
}

/** The network `ref` names (its name or an id prefix); 404 in Docker's words otherwise. */
function resolve(engine: DockerEngine, ref: string): BridgeInfo {
  const net = engine.network?.();
  // Not found, in the words `docker inspect NAME` looks for before it tries the next kind of object.
  if (!net || (ref !== NETWORK && !networkId(net).startsWith(ref)))
    throw dockerError(404, `network ${ref} not found`);
  return net;
}

/** GET /networks/{name or id}: with the running containers' addresses. */
export async function inspectNetwork(engine: DockerEngine, ref: string) {
  const net = resolve(engine, ref);
  const containers: Record<string, object> = {};
  for (const c of await engine.list(false)) {
    containers[c.id] = {
      Name: c.name,
      EndpointID: c.hostVeth,
      MacAddress: "",
      IPv4Address: `${c.address}/${net.prefixLength}`,
      IPv6Address: "",
    };
  }
  return networkJson(net, containers);
}

/** POST /networks/create: the one network is all there is. */
export function createNetwork(): never {
  throw dockerError(
    501,
    `weft has one network, ${NETWORK} (its bridge), which every container joins; it makes no others`,
  );
}

/** DELETE /networks/{id}: the one network cannot go. */
export function removeNetwork(engine: DockerEngine, ref: string): never {
  resolve(engine, ref);
  throw dockerError(403, `${NETWORK} is a pre-defined network and cannot be removed`);
}
