// Registration.SyncEndpoints over gRPC. A request that fails validation is answered with
// INVALID_ARGUMENT naming the field, and nothing from it is stored.
import { status } from "@grpc/grpc-js";
import type { RegistrationHandlers } from "../../../proto/index";
import { toWireService } from "../discovery/wire";
import type { ServiceRegistry } from "../registry/types";
import { parseSyncRequest } from "./validate";

export function registrationHandlers(
  registry: ServiceRegistry,
  log: (message: string) => void = (m) => console.error(m),
): RegistrationHandlers {
  return {
    SyncEndpoints(call, callback) {
      const parsed = parseSyncRequest(call.request);
      if (!parsed.ok) {
        callback({ code: status.INVALID_ARGUMENT, details: parsed.error });
        return;
      }
      const { source, endpoints, declarations } = parsed.value;
      try {
        const result = registry.syncEndpoints(source, endpoints, declarations);
        callback(null, { index: result.index, services: result.services.map(toWireService) });
      } catch (err) {
        const e = err as Error & { code?: string };
        log(`SyncEndpoints from "${source}" failed: ${e.message}`);
        const code = e.code === "VIP_RANGE_EXHAUSTED" ? status.RESOURCE_EXHAUSTED : status.INTERNAL;
        callback({ code, details: e.message });
      }
    },
  };
}
