// The state of the world per resource type at one registry index, built once and shared by every
// stream pushed at that index. Each resource carries a content hash as its version, so a stream can
// tell whether anything it subscribes to really changed.
import { createHash } from "node:crypto";
import type { ServiceRegistry } from "../registry/types";
import {
  endpointsResource,
  type PushResource,
  type ResourceType,
  serviceResource,
  TYPE_ENDPOINTS,
  TYPE_SERVICE,
} from "./wire";

export interface Snapshot {
  index: number;
  resources: Record<ResourceType, PushResource[]>;
}

function contentVersion(value: unknown): string {
  return createHash("sha1").update(JSON.stringify(value)).digest("hex").slice(0, 12);
}

export function buildSnapshot(registry: ServiceRegistry): Snapshot {
  const index = registry.index();
  const services = registry.listServices();
  const byService = new Map<string, ReturnType<ServiceRegistry["listAllEndpoints"]>>();
  for (const e of registry.listAllEndpoints()) {
    const list = byService.get(e.service) ?? [];
    list.push(e);
    byService.set(e.service, list);
  }
  const serviceResources = services.map((s) => {
    const { createIndex: _c, modifyIndex: _m, ...content } = s;
    return serviceResource(s, contentVersion(content));
  });
  // Every service gets an endpoints resource, empty when it has none, so a sidecar learns that the
  // last endpoint went away.
  const endpointResources = services.map((s) => {
    const endpoints = byService.get(s.name) ?? [];
    const content = endpoints.map(({ createIndex: _c, modifyIndex: _m, ...rest }) => rest);
    return endpointsResource(s.name, endpoints, contentVersion(content));
  });
  return { index, resources: { [TYPE_SERVICE]: serviceResources, [TYPE_ENDPOINTS]: endpointResources } };
}
