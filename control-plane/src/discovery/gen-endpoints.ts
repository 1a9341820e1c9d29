// weft.v1.ServiceEndpoints: one resource per service, empty when it has no endpoints, so a sidecar
// learns that the last endpoint went away (and a subscriber always gets an answer for a real service).
import type { Endpoint, ServiceRegistry } from "../registry/types";
import { contentVersion, type Generator } from "./generator";
import { endpointsResource, type PushResource, TYPE_ENDPOINTS, toWireEndpoint } from "./wire";

export class EndpointsGenerator implements Generator {
  readonly type = TYPE_ENDPOINTS;
  readonly source = "registry";
  constructor(private readonly registry: ServiceRegistry) {}

  all(): Map<string, PushResource> {
    const byService = new Map<string, Endpoint[]>();
    for (const e of this.registry.listAllEndpoints()) {
      const list = byService.get(e.service) ?? [];
      list.push(e);
      byService.set(e.service, list);
    }
    const out = new Map<string, PushResource>();
    for (const s of this.registry.listServices()) out.set(s.name, build(s.name, byService.get(s.name) ?? []));
    return out;
  }

  some(names: Iterable<string>): Map<string, PushResource | undefined> {
    const out = new Map<string, PushResource | undefined>();
    for (const name of names) {
      out.set(name, this.registry.getService(name) && build(name, this.registry.listEndpoints(name)));
    }
    return out;
  }

  version(): string {
    return String(this.registry.index());
  }
}

function build(service: string, endpoints: Endpoint[]): PushResource {
  return endpointsResource(service, endpoints, contentVersion(endpoints.map(toWireEndpoint)));
}
