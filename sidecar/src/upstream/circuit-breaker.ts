// Circuit breaking per service, as Envoy's cluster thresholds: when too much is already in flight
// to a service, a new request or connection is refused at once instead of queueing behind an
// overloaded upstream (and the client sees why, with the x-weft-overflow header).
import type { PolicyConfig } from "../config/types";
import type { Refusal } from "./plan";

export interface CircuitBreakerLimits {
  /** TCP connections in flight; with maxPendingRequests, the HTTP request limit. Default 1024. */
  maxConnections: number;
  /** Requests beyond maxConnections that may still be in flight. Default 1024. */
  maxPendingRequests: number;
  /** The proxy closes an upstream connection after this many requests; 0 (default): no limit. */
  maxRequestsPerConnection: number;
}

export const CIRCUIT_BREAKER_DEFAULTS: CircuitBreakerLimits = {
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequestsPerConnection: 0,
};

/** The policy's limits over the defaults (0 means the default for the first two). */
export function circuitBreakerLimits(policy: PolicyConfig | undefined): CircuitBreakerLimits {
  const c = policy?.circuitBreaker;
  if (!c) return CIRCUIT_BREAKER_DEFAULTS;
  return {
    maxConnections: c.maxConnections || CIRCUIT_BREAKER_DEFAULTS.maxConnections,
    maxPendingRequests: c.maxPendingRequests || CIRCUIT_BREAKER_DEFAULTS.maxPendingRequests,
    maxRequestsPerConnection: c.maxRequestsPerConnection,
  };
}

/** In-flight counts of one service. */
export class CircuitBreaker {
  /** HTTP attempts sent and not yet ended. */
  requests = 0;
  /** TCP connections opened and not yet ended. */
  connections = 0;

  /** Whether one more request fits. */
  requestFits(limits: CircuitBreakerLimits): boolean {
    return this.requests < limits.maxConnections + limits.maxPendingRequests;
  }

  /** Whether one more TCP connection fits. */
  connectionFits(limits: CircuitBreakerLimits): boolean {
    return this.connections < limits.maxConnections;
  }
}

export function overflowRefusal(
  service: string,
  kind: "pending-requests" | "connections",
  limits: CircuitBreakerLimits,
): Refusal {
  const what =
    kind === "connections"
      ? `${limits.maxConnections} connections (maxConnections)`
      : `${limits.maxConnections + limits.maxPendingRequests} requests (maxConnections ${limits.maxConnections} + maxPendingRequests ${limits.maxPendingRequests})`;
  return {
    status: 503,
    overflow: kind,
    message: `circuit breaker open for service "${service}": already ${what} in flight; raise the circuitBreaker limits in the service's ResiliencePolicy if it can take more\n`,
  };
}
