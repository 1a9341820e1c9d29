// Validates what a source sends before anything is stored. Takes `unknown` (a decoded gRPC message
// or JSON) and returns domain values, or the first problem with the field it is in.
import { isServiceName, SERVICE_NAME_RULE } from "../../../proto/service-name";
import { unroutableAddress as endpointAddressProblem } from "../registry/endpoint-address";
import {
  type EndpointInput,
  PROTOCOLS,
  type Protocol,
  type ServiceDeclaration,
  type ServicePort,
} from "../registry/types";

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export interface SyncRequest {
  source: string;
  endpoints: EndpointInput[];
  declarations: ServiceDeclaration[];
}

class FieldError extends Error {}

function fail(message: string): never {
  throw new FieldError(message);
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`${field} must be an object`);
  return value as Record<string, unknown>;
}

/** Control characters: a newline in an id or a workload's name would break every table and log
 * line that prints it (weft get, proxy-status, the access log). Label values are the containers'
 * own (an image's multi-line description label, say) and are not checked: one such label must not
 * stop a node's whole registration. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
const CONTROL = /[\0-\x1f\x7f]/;

function str(value: unknown, field: string, opts: { required?: boolean } = {}): string {
  if (value === undefined || value === null) value = "";
  if (typeof value !== "string") fail(`${field} must be a string`);
  if (opts.required && value === "") fail(`${field} is required`);
  if (CONTROL.test(value)) fail(`${field} ${JSON.stringify(value)} must not hold control characters`);
  return value;
}

function list(value: unknown, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(`${field} must be a list`);
  return value;
}

/** Service names end up in DNS answers and URLs (proto/service-name.ts: the sidecars' rule too). */
export { endpointAddressProblem, isServiceName };

function serviceName(value: unknown, field: string): string {
  const name = str(value, field, { required: true });
  if (!isServiceName(name)) {
    fail(`${field} "${name}" is not a valid service name (${SERVICE_NAME_RULE})`);
  }
  return name;
}

function labels(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const r = record(value, field);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === "") fail(`${field} has an empty key`);
    if (typeof v !== "string" && v !== undefined && v !== null) fail(`${field}["${k}"] must be a string`);
    out[k] = typeof v === "string" ? v : "";
  }
  return out;
}

function ports(value: unknown, field: string): ServicePort[] {
  const seen = new Set<number>();
  return list(value, field).map((item, i) => {
    const f = `${field}[${i}]`;
    const p = record(item, f);
    const port = typeof p.port === "string" && /^\d+$/.test(p.port) ? Number(p.port) : p.port;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      fail(`${f}.port must be an integer from 1 to 65535, got ${JSON.stringify(p.port ?? null)}`);
    }
    if (seen.has(port)) fail(`${f}.port ${port} is listed twice`);
    seen.add(port);
    const protocol = str(p.protocol, `${f}.protocol`) || "auto";
    if (!(PROTOCOLS as readonly string[]).includes(protocol))
      fail(`${f}.protocol must be one of ${PROTOCOLS.join(", ")} (empty: auto), got "${protocol}"`);
    return { name: str(p.name, `${f}.name`), port, protocol: protocol as Protocol };
  });
}

function endpoint(value: unknown, field: string, source: string): EndpointInput {
  const e = record(value, field);
  const id = str(e.id, `${field}.id`, { required: true });
  const address = str(e.address, `${field}.address`, { required: true });
  const problem = endpointAddressProblem(address);
  if (problem) fail(`${field}.address "${address}" ${problem}: register the workload's own address`);
  const own = str(e.source, `${field}.source`);
  if (own !== "" && own !== source)
    fail(`${field}.source "${own}" differs from the request's source "${source}"`);
  if (e.healthy !== undefined && e.healthy !== null && typeof e.healthy !== "boolean") {
    fail(`${field}.healthy must be true or false`);
  }
  return {
    id,
    service: serviceName(e.service, `${field}.service`),
    address,
    ports: ports(e.ports, `${field}.ports`),
    labels: labels(e.labels, `${field}.labels`),
    workload: str(e.workload, `${field}.workload`),
    node: str(e.node, `${field}.node`),
    // Absent means healthy: a source that does not health-check still wants its endpoints used.
    healthy: typeof e.healthy === "boolean" ? e.healthy : true,
  };
}

function declaration(value: unknown, field: string): ServiceDeclaration {
  const s = record(value, field);
  return {
    name: serviceName(s.name, `${field}.name`),
    ports: ports(s.ports, `${field}.ports`),
    labels: labels(s.labels, `${field}.labels`),
  };
}

/** Checks a SyncEndpoints request: source, endpoints and declared services. */
export function parseSyncRequest(value: unknown): Result<SyncRequest> {
  try {
    const r = record(value, "request");
    const source = str(r.source, "source", { required: true });
    const endpoints = list(r.endpoints, "endpoints").map((e, i) => endpoint(e, `endpoints[${i}]`, source));
    const ids = new Set<string>();
    endpoints.forEach((e, i) => {
      if (ids.has(e.id)) fail(`endpoints[${i}].id "${e.id}" is used twice within source "${source}"`);
      ids.add(e.id);
    });
    const declarations = list(r.services, "services").map((s, i) => declaration(s, `services[${i}]`));
    const names = new Set<string>();
    declarations.forEach((d, i) => {
      if (names.has(d.name)) fail(`services[${i}].name "${d.name}" is declared twice`);
      names.add(d.name);
    });
    return { ok: true, value: { source, endpoints, declarations } };
  } catch (err) {
    if (err instanceof FieldError) return { ok: false, error: err.message };
    throw err;
  }
}
