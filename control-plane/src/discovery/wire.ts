// The one place where registry domain types become protobuf messages (and requests become domain
// values). Everything else in the control plane works on registry/types.
import type {
  DiscoveryRequest__Output,
  WireEndpoint,
  WireResource,
  WireService,
  WireServicePort,
} from "../../../proto/index";
import { TYPE_ENDPOINTS, TYPE_SERVICE } from "../../../proto/index";
import type { Endpoint, Service, ServicePort } from "../registry/types";

export { TYPE_ENDPOINTS, TYPE_SERVICE };

export type ResourceType = typeof TYPE_SERVICE | typeof TYPE_ENDPOINTS;

export const RESOURCE_TYPES: readonly ResourceType[] = [TYPE_SERVICE, TYPE_ENDPOINTS];

export function isResourceType(typeUrl: string): typeUrl is ResourceType {
  return typeUrl === TYPE_SERVICE || typeUrl === TYPE_ENDPOINTS;
}

function toWirePort(p: ServicePort): WireServicePort {
  return { name: p.name, port: p.port, protocol: p.protocol };
}

export function toWireService(s: Service): WireService {
  return {
    name: s.name,
    virtual_ip: s.virtualIp,
    ports: s.ports.map(toWirePort),
    labels: s.labels,
    origin: s.origin,
  };
}

export function toWireEndpoint(e: Endpoint): WireEndpoint {
  return {
    id: e.id,
    service: e.service,
    address: e.address,
    ports: e.ports.map(toWirePort),
    labels: e.labels,
    workload: e.workload,
    node: e.node,
    healthy: e.healthy,
    source: e.source,
  };
}

/** A resource as pushed: its name, a content version and the body for its type. */
export interface PushResource {
  name: string;
  version: string;
  wire: WireResource;
}

export function serviceResource(s: Service, version: string): PushResource {
  return { name: s.name, version, wire: { name: s.name, version, service: toWireService(s) } };
}

export function endpointsResource(service: string, endpoints: Endpoint[], version: string): PushResource {
  return {
    name: service,
    version,
    wire: { name: service, version, endpoints: { service, endpoints: endpoints.map(toWireEndpoint) } },
  };
}

/** What the discovery server needs from a request, in domain terms. */
export interface ParsedDiscoveryRequest {
  node?: { id: string; workload: string; service: string; address: string };
  typeUrl: string;
  versionInfo: string;
  responseNonce: string;
  resourceNames: string[];
  /** Set on a NACK. */
  error?: { code: number; message: string };
}

export function parseDiscoveryRequest(r: DiscoveryRequest__Output): ParsedDiscoveryRequest {
  return {
    node: r.node
      ? { id: r.node.id, workload: r.node.workload, service: r.node.service, address: r.node.address }
      : undefined,
    typeUrl: r.type_url,
    versionInfo: r.version_info,
    responseNonce: r.response_nonce,
    resourceNames: r.resource_names ?? [],
    error: r.error_detail ? { code: r.error_detail.code, message: r.error_detail.message } : undefined,
  };
}
