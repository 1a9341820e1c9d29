// Registration.SyncEndpoints over gRPC. A request that fails validation is answered with
// INVALID_ARGUMENT naming the field, and nothing from it is stored. Each sync renews its source's
// lease; a source syncing faster than its token bucket allows gets RESOURCE_EXHAUSTED (its registrar
// backs off and retries), so a flood never starves the rest of the control plane.
import { status } from "@grpc/grpc-js";
import type { RegistrationHandlers } from "../../../proto/index";
import { RateLimiter, type RateLimitOptions } from "../api/throttle";
import { toWireService } from "../discovery/wire";
import type { ServiceRegistry } from "../registry/types";
import { AGENT_SOURCE } from "./agent-source";
import { CATALOG_SOURCE } from "./catalog-source";
import type { SourceLeases } from "./source-leases";
import { parseSyncRequest } from "./validate";

export interface RegistrationOptions {
  /** Renewed on every accepted sync. Default: no leases. */
  leases?: SourceLeases;
  /** Token bucket per source. Default: burst 50, 20 syncs/s. */
  rateLimit?: RateLimitOptions;
}

export function registrationHandlers(
  registry: ServiceRegistry,
  log: (message: string) => void = (m) => console.error(m),
  options: RegistrationOptions = {},
): RegistrationHandlers {
  const limiter = new RateLimiter({ burst: 50, perSecond: 20, ...options.rateLimit });
  return {
    SyncEndpoints(call, callback) {
      const parsed = parseSyncRequest(call.request);
      if (!parsed.ok) {
        callback({ code: status.INVALID_ARGUMENT, details: parsed.error });
        return;
      }
      const { source, endpoints, declarations } = parsed.value;
      const owner =
        source === AGENT_SOURCE
          ? "Consul's agent API (/v1/agent/service/register)"
          : source === CATALOG_SOURCE
            ? "Consul's catalog API (/v1/catalog/register)"
            : undefined;
      if (owner) {
        callback({
          code: status.INVALID_ARGUMENT,
          details: `source "${source}" belongs to ${owner}; name your source e.g. "daemon:NODE"`,
        });
        return;
      }
      const taken = limiter.take(source);
      if (!taken.ok) {
        callback({
          code: status.RESOURCE_EXHAUSTED,
          details: `source "${source}" syncs too often; retry after ${taken.retryAfterMs} ms`,
        });
        return;
      }
      try {
        const result = registry.syncEndpoints(source, endpoints, declarations);
        options.leases?.renew(source);
        callback(null, { index: result.index, services: result.services.map(toWireService) });
      } catch (err) {
        const e = err as Error & { code?: string };
        log(`SyncEndpoints from "${source}" failed: ${e.message}`);
        const code =
          e.code === "VIP_RANGE_EXHAUSTED"
            ? status.RESOURCE_EXHAUSTED
            : e.code === "INVALID_ARGUMENT"
              ? status.INVALID_ARGUMENT
              : status.INTERNAL;
        callback({ code, details: e.message });
      }
    },
  };
}
