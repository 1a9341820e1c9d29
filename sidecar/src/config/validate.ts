// The one place config arriving from the control plane is checked. Functions take `unknown` (the
// wire shape: snake_case, as grpc-js decodes it) and return domain values, or throw a SidecarError
// INVALID_CONFIG that names the field, which the stream client sends back as the NACK reason.

import { isIPv4 } from "node:net";
import { isMtlsMode, MTLS_MODES } from "../../../proto/mtls-mode";
import { isServiceName, SERVICE_NAME_RULE } from "../../../proto/service-name";
import { SidecarError } from "../errors";
import { type EndpointConfig, type PortConfig, PROTOCOLS, type Protocol, type ServiceConfig } from "./types";

export type Obj = Record<string, unknown>;

export function parseService(value: unknown, path: string): ServiceConfig {
  const o = object(value, path);
  const name = str(o.name, `${path}.name`);
  // The registry's rule (the sidecar's DNS answers such names whatever the case asked).
  if (!isServiceName(name)) bad(`${path}.name "${name}" is not a service name (${SERVICE_NAME_RULE})`);
  const virtualIp = str(o.virtual_ip ?? "", `${path}.virtual_ip`);
  if (virtualIp !== "" && !isIPv4(virtualIp)) bad(`${path}.virtual_ip "${virtualIp}" is not an IPv4 address`);
  const ports = portList(o.ports, `${path}.ports`);
  const seen = new Set<number>();
  for (const p of ports) {
    if (seen.has(p.port)) bad(`${path}.ports has port ${p.port} twice`);
    seen.add(p.port);
  }
  const mode = str(o.mtls_mode ?? "", `${path}.mtls_mode`);
  if (mode !== "" && !isMtlsMode(mode))
    bad(`${path}.mtls_mode "${mode}" is not one of ${MTLS_MODES.join(", ")}`);
  // An older control plane sends none: PERMISSIVE, the mesh's default.
  const mtlsMode = mode === "" ? "PERMISSIVE" : mode;
  return { name, virtualIp, ports, labels: labels(o.labels, `${path}.labels`), mtlsMode };
}

export function parseEndpoint(value: unknown, path: string): EndpointConfig {
  const o = object(value, path);
  const address = str(o.address, `${path}.address`);
  if (!isIPv4(address)) bad(`${path}.address "${address}" is not an IPv4 address`);
  return {
    id: str(o.id ?? "", `${path}.id`),
    service: str(o.service ?? "", `${path}.service`),
    address,
    ports: portList(o.ports, `${path}.ports`),
    labels: labels(o.labels, `${path}.labels`),
    workload: str(o.workload ?? "", `${path}.workload`),
    node: str(o.node ?? "", `${path}.node`),
    // proto3 drops false booleans on some encoders; a missing flag means not healthy.
    healthy: o.healthy === true,
  };
}

/** Checks a set of services together: names and virtual IP:port pairs must be unique. */
export function checkServiceSet(services: Iterable<ServiceConfig>): void {
  const byVip = new Map<string, string>();
  for (const s of services) {
    if (!s.virtualIp) continue;
    for (const p of s.ports) {
      const key = `${s.virtualIp}:${p.port}`;
      const other = byVip.get(key);
      if (other) bad(`services "${other}" and "${s.name}" both claim ${key}`);
      byVip.set(key, s.name);
    }
  }
}

function portList(value: unknown, path: string): PortConfig[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) bad(`${path} must be a list`);
  return value.map((item, i) => parsePort(item, `${path}[${i}]`));
}

function parsePort(value: unknown, path: string): PortConfig {
  const o = object(value, path);
  const port = o.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    bad(`${path}.port must be an integer from 1 to 65535, got ${JSON.stringify(port)}`);
  }
  const protocol = str(o.protocol ?? "", `${path}.protocol`).toLowerCase() || "auto";
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    bad(`${path}.protocol must be one of ${PROTOCOLS.join(", ")} (empty means auto), got "${protocol}"`);
  }
  return { name: str(o.name ?? "", `${path}.name`), port, protocol: protocol as Protocol };
}

export function labels(value: unknown, path: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const o = object(value, path);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) out[k] = str(v, `${path}.${k}`);
  return out;
}

export function object(value: unknown, path: string): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad(`${path} must be an object`);
  return value as Obj;
}

export function str(value: unknown, path: string): string {
  if (typeof value !== "string") bad(`${path} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

export function bad(message: string): never {
  throw new SidecarError("INVALID_CONFIG", message);
}
