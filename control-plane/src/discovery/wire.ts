// The one place where domain values (registry types, config objects) become protobuf messages, and
// requests become domain values. Everything else in the control plane works on domain types.

import { type AuthorizationSpec, enforcedSpec } from "../../../proto/authorization-rules";
import type {
  DiscoveryRequest__Output,
  DiscoveryResponse,
  WireEndpoint,
  WireResource,
  WireService,
  WireServicePort,
} from "../../../proto/index";
import { TYPE_ENDPOINTS, TYPE_POLICY, TYPE_ROUTES, TYPE_SERVICE, TYPE_TELEMETRY } from "../../../proto/index";
import type { TelemetrySpec } from "../config/types";
import type { Endpoint, Service, ServicePort } from "../registry/types";
import type { ConfigObject } from "./config-source";

export { TYPE_ENDPOINTS, TYPE_POLICY, TYPE_ROUTES, TYPE_SERVICE, TYPE_TELEMETRY };

export type ResourceType =
  | typeof TYPE_SERVICE
  | typeof TYPE_ENDPOINTS
  | typeof TYPE_ROUTES
  | typeof TYPE_POLICY
  | typeof TYPE_TELEMETRY;

/**
 * Every type, in the order one push cycle writes them to a stream: a service's endpoints always go
 * out before its routes (make-before-break), policies before the routes that will use them.
 */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  TYPE_SERVICE,
  TYPE_ENDPOINTS,
  TYPE_POLICY,
  TYPE_ROUTES,
  TYPE_TELEMETRY,
];

/** Types a sidecar gets whole; the others are subscribed to by service name. */
export const WILDCARD_TYPES: ReadonlySet<ResourceType> = new Set([TYPE_SERVICE, TYPE_TELEMETRY]);

export function isResourceType(typeUrl: string): typeUrl is ResourceType {
  return (RESOURCE_TYPES as readonly string[]).includes(typeUrl);
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
    mtls_mode: s.mtls ?? "",
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

export function serviceResource(service: WireService, version: string): PushResource {
  return { name: service.name ?? "", version, wire: { name: service.name, version, service } };
}

export function endpointsResource(service: string, endpoints: Endpoint[], version: string): PushResource {
  return {
    name: service,
    version,
    wire: { name: service, version, endpoints: { service, endpoints: endpoints.map(toWireEndpoint) } },
  };
}

export function routesResource(service: string, routes: ConfigObject[], version: string): PushResource {
  return {
    name: service,
    version,
    wire: {
      name: service,
      version,
      routes: {
        service,
        routes: routes.map((r) => ({
          name: r.metadata.name,
          version: r.metadata.version,
          spec: snakeCase(r.spec),
        })),
      },
    },
  };
}

export function policyResource(
  service: string,
  resilience: ConfigObject | undefined,
  authorization: ConfigObject | undefined,
  version: string,
): PushResource {
  return {
    name: service,
    version,
    wire: {
      name: service,
      version,
      policy: {
        service,
        name: resilience?.metadata.name ?? "",
        version: resilience?.metadata.version ?? 0,
        spec: resilience ? snakeCase(resilience.spec) : { service },
        ...(authorization
          ? {
              authorization: {
                name: authorization.metadata.name,
                version: authorization.metadata.version,
                spec: snakeCase(enforcedSpec(authorization.spec as AuthorizationSpec)),
              },
            }
          : {}),
      },
    },
  };
}

export function telemetryResource(name: string, telemetry: ConfigObject, version: string): PushResource {
  return {
    name,
    version,
    wire: {
      name,
      version,
      telemetry: {
        name,
        version: telemetry.metadata.version,
        spec: snakeCase(telemetryDefaults(telemetry.spec as TelemetrySpec)),
      },
    },
  };
}

/**
 * A Telemetry spec with the documented defaults filled in where the manifest left a field out:
 * tracing on at 100% once configured, access-log sampling 100%, the control plane as the log sink.
 * On the wire these are proto3 scalars and a repeated field, where absent and 0 or empty are the
 * same, so only here is "left out" still told apart from an explicit 0 (log errors only; continue
 * only traces already sampled upstream) or `sinks: []`.
 */
export function telemetryDefaults(spec: TelemetrySpec): TelemetrySpec {
  const out: TelemetrySpec = { ...spec };
  if (spec.tracing) {
    out.tracing = { ...spec.tracing, enabled: spec.tracing.enabled ?? true };
    out.tracing.samplingRatio = spec.tracing.samplingRatio ?? 1;
  }
  if (spec.logging) {
    out.logging = { ...spec.logging, samplingRatio: spec.logging.samplingRatio ?? 1 };
    out.logging.sinks = spec.logging.sinks ?? ["control-plane"];
  }
  return out;
}

/** Objects whose keys are data (label and header names), not field names: left as they are. */
const MAP_FIELDS = new Set(["labels", "headers", "resourceAttributes"]);

/**
 * Config specs are camelCase (YAML/JSON documents); the proto fields are snake_case
 * (`timeoutMs` → `timeout_ms`, `consecutive5xx` → `consecutive_5xx`).
 */
export function snakeCase<T = never>(value: unknown): T {
  if (Array.isArray(value)) return value.map((v) => snakeCase(v)) as T;
  if (typeof value !== "object" || value === null) return value as T;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const snake = key.replace(/([a-z])([A-Z]|\d+)/g, "$1_$2").toLowerCase();
    out[snake] = MAP_FIELDS.has(key) ? v : snakeCase(v);
  }
  return out as T;
}

/** A response as the discovery server builds it. */
export interface DiscoveryResponseOut {
  typeUrl: ResourceType;
  versionInfo: string;
  nonce: string;
  resources: PushResource[];
  /** Names gone since the last response (incremental responses only). */
  removed: string[];
  /** true: `resources` holds only what changed. */
  incremental: boolean;
}

export function toWireResponse(r: DiscoveryResponseOut): DiscoveryResponse {
  return {
    type_url: r.typeUrl,
    version_info: r.versionInfo,
    nonce: r.nonce,
    resources: r.resources.map((x) => x.wire),
    removed_resources: r.removed,
    incremental: r.incremental,
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
