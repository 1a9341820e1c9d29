// weft.v1.Service: every service with its virtual IP and ports (sidecars take all of them), and its
// mutual TLS mode: the config Service's own, else the mesh-wide default.
import type { MtlsMode } from "../../../proto/mtls-mode";
import type { Service, ServiceRegistry } from "../registry/types";
import { contentVersion, type Generator } from "./generator";
import { type PushResource, serviceResource, TYPE_SERVICE, toWireService } from "./wire";

export class ServiceGenerator implements Generator {
  readonly type = TYPE_SERVICE;
  readonly source = "registry";
  constructor(
    private readonly registry: ServiceRegistry,
    private readonly defaultMtls: MtlsMode = "PERMISSIVE",
  ) {}

  private resource(s: Service): PushResource {
    const wire = { ...toWireService(s), mtls_mode: s.mtls ?? this.defaultMtls };
    return serviceResource(wire, contentVersion(wire));
  }

  all(): Map<string, PushResource> {
    const out = new Map<string, PushResource>();
    for (const s of this.registry.listServices()) {
      out.set(s.name, this.resource(s));
    }
    return out;
  }

  some(names: Iterable<string>): Map<string, PushResource | undefined> {
    const out = new Map<string, PushResource | undefined>();
    for (const name of names) {
      const s = this.registry.getService(name);
      out.set(name, s && this.resource(s));
    }
    return out;
  }

  version(): string {
    return String(this.registry.index());
  }
}
