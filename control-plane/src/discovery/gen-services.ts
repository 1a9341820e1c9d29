// weft.v1.Service: every service with its virtual IP and ports (sidecars take all of them).
import type { ServiceRegistry } from "../registry/types";
import { contentVersion, type Generator } from "./generator";
import { type PushResource, serviceResource, TYPE_SERVICE, toWireService } from "./wire";

export class ServiceGenerator implements Generator {
  readonly type = TYPE_SERVICE;
  readonly source = "registry";
  constructor(private readonly registry: ServiceRegistry) {}

  all(): Map<string, PushResource> {
    const out = new Map<string, PushResource>();
    for (const s of this.registry.listServices()) {
      out.set(s.name, serviceResource(s, contentVersion(toWireService(s))));
    }
    return out;
  }

  some(names: Iterable<string>): Map<string, PushResource | undefined> {
    const out = new Map<string, PushResource | undefined>();
    for (const name of names) {
      const s = this.registry.getService(name);
      out.set(name, s && serviceResource(s, contentVersion(toWireService(s))));
    }
    return out;
  }

  version(): string {
    return String(this.registry.index());
  }
}
