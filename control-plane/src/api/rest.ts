// Weft's own REST view of the registry (GET /api/v1/...): what `weft services` and
// `weft endpoints` print.
import { serviceNotFound } from "../errors";
import type { Endpoint, Service, ServicePort, ServiceRegistry } from "../registry/types";

export interface ServiceSummary {
  name: string;
  virtualIp: string;
  ports: ServicePort[];
  labels: Record<string, string>;
  origin: string;
  /** How many endpoints the service has, from every source. */
  endpoints: number;
  healthyEndpoints: number;
}

/** An endpoint as the REST API shows it: the registry record without its change indexes. */
export type EndpointView = Omit<Endpoint, "createIndex" | "modifyIndex">;

function summary(s: Service, endpoints: Endpoint[]): ServiceSummary {
  return {
    name: s.name,
    virtualIp: s.virtualIp,
    ports: s.ports,
    labels: s.labels,
    origin: s.origin,
    endpoints: endpoints.length,
    healthyEndpoints: endpoints.filter((e) => e.healthy).length,
  };
}

function endpointView(e: Endpoint): EndpointView {
  const { createIndex: _c, modifyIndex: _m, ...view } = e;
  return view;
}

export function listServiceSummaries(registry: ServiceRegistry): ServiceSummary[] {
  const byService = new Map<string, Endpoint[]>();
  for (const e of registry.listAllEndpoints()) {
    byService.set(e.service, [...(byService.get(e.service) ?? []), e]);
  }
  return registry.listServices().map((s) => summary(s, byService.get(s.name) ?? []));
}

/** Throws SERVICE_NOT_FOUND (a 404) for a name the registry does not hold. */
export function getServiceSummary(registry: ServiceRegistry, name: string): ServiceSummary {
  const service = registry.getService(name);
  if (!service) throw serviceNotFound(name);
  return summary(service, registry.listEndpoints(name));
}

export function listServiceEndpoints(registry: ServiceRegistry, name: string): EndpointView[] {
  if (!registry.getService(name)) throw serviceNotFound(name);
  return registry.listEndpoints(name).map(endpointView);
}
