// The selectors `?filter=` may name on each item of Consul's answers, so that a filter naming a field
// the answer does not have is a 400, as Consul's (go-bexpr checks selectors against the type before
// running): `Bogus == "x"` answered with [] would look like "nothing matched". Field names and nesting
// follow Consul's api-docs filtering tables (catalog.mdx, health.mdx, agent/service.mdx, agent/check.mdx).

/** Map keys chosen by users (Meta, NodeMeta): one more key, any, then nothing. */
export const ANY_VALUE = "map";
/** A value or a list of values (Port, Tags): nothing below it. */
export const LEAF = "leaf";

/** A map whose values are structs (TaggedAddresses of a service): any key, then the struct's fields. */
export class AnyKey {
  constructor(readonly of: FilterSchema) {}
}

export type FilterField = typeof LEAF | typeof ANY_VALUE | AnyKey | FilterSchema;
export interface FilterSchema {
  readonly [field: string]: FilterField;
}

const leaves = (...names: string[]): FilterSchema => Object.fromEntries(names.map((n) => [n, LEAF]));

const MESH_GATEWAY = leaves("Mode");
const PROXY: FilterSchema = {
  ...leaves(
    "DestinationServiceID",
    "DestinationServiceName",
    "LocalServiceAddress",
    "LocalServicePort",
    "Mode",
  ),
  TransparentProxy: leaves("OutboundListenerPort"),
  MeshGateway: MESH_GATEWAY,
  Upstreams: {
    ...leaves(
      "Datacenter",
      "DestinationName",
      "DestinationNamespace",
      "DestinationType",
      "LocalBindAddress",
      "LocalBindPort",
    ),
    MeshGateway: MESH_GATEWAY,
  },
  Expose: leaves("Checks", "Paths"),
};
const SERVICE_ADDRESS = new AnyKey(leaves("Address", "Port"));
const WEIGHTS = leaves("Passing", "Warning");

/** A service instance as the agent, a node's services and the health Service show it (NodeService). */
export const NODE_SERVICE: FilterSchema = {
  ...leaves(
    "Kind",
    "ID",
    "Service",
    "Tags",
    "Address",
    "Port",
    "SocketPath",
    "EnableTagOverride",
    "Datacenter",
    "CreateIndex",
    "ModifyIndex",
  ),
  Meta: ANY_VALUE,
  TaggedAddresses: SERVICE_ADDRESS,
  Weights: WEIGHTS,
  Proxy: PROXY,
  Connect: leaves("Native"),
};

/** A node (GET /v1/catalog/nodes, and the Node of a health entry). */
export const NODE: FilterSchema = {
  ...leaves("ID", "Node", "Address", "Datacenter", "CreateIndex", "ModifyIndex"),
  TaggedAddresses: ANY_VALUE,
  Meta: ANY_VALUE,
};

/** One instance of /v1/catalog/service/NAME; /v1/catalog/services filters these before grouping. */
export const CATALOG_SERVICE: FilterSchema = {
  ...leaves(
    "ID",
    "Node",
    "Address",
    "Datacenter",
    "ServiceKind",
    "ServiceID",
    "ServiceName",
    "ServiceTags",
    "ServiceAddress",
    "ServicePort",
    "ServiceSocketPath",
    "ServiceEnableTagOverride",
    "CreateIndex",
    "ModifyIndex",
  ),
  TaggedAddresses: ANY_VALUE,
  NodeMeta: ANY_VALUE,
  ServiceMeta: ANY_VALUE,
  ServiceTaggedAddresses: SERVICE_ADDRESS,
  ServiceWeights: WEIGHTS,
  ServiceProxy: PROXY,
  ServiceConnect: leaves("Native"),
};

/** A check (health checks, state and node, and the agent's checks). */
export const HEALTH_CHECK: FilterSchema = leaves(
  "Node",
  "CheckID",
  "Name",
  "Status",
  "Notes",
  "Output",
  "ServiceID",
  "ServiceName",
  "ServiceTags",
  "Type",
  "Interval",
  "Timeout",
  "ExposedPort",
  "Definition",
  "CreateIndex",
  "ModifyIndex",
);

/** One entry of /v1/health/service/NAME. */
export const HEALTH_SERVICE: FilterSchema = { Node: NODE, Service: NODE_SERVICE, Checks: HEALTH_CHECK };

/** Why `path` names nothing an item of `schema` has, or undefined when it does. */
export function selectorProblem(schema: FilterSchema, path: readonly string[]): string | undefined {
  let at: FilterField = schema;
  for (const [i, key] of path.entries()) {
    let next: FilterField | undefined;
    if (at === LEAF) next = undefined;
    else if (at === ANY_VALUE) next = LEAF;
    else if (at instanceof AnyKey) next = at.of;
    else next = Object.hasOwn(at, key) ? at[key] : undefined;
    if (next === undefined) return `Selector "${path.slice(0, i + 1).join(".")}" is not valid`;
    at = next;
  }
  return undefined;
}
