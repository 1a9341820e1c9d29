// How one endpoint is chosen among a service's candidates for one attempt, and the registry of the
// kinds a ResiliencePolicy may name (policy.loadBalancer). A balancer holds per-service state (a
// round-robin cursor); the endpoints' own state (in flight, latency) lives in EndpointStats.
import type { LoadBalancerKind } from "../config/types";
import type { EndpointStats } from "./endpoint-stats";
import { createConsistentHash } from "./load-balancer-consistent-hash";
import { createP2cEwma } from "./load-balancer-p2c-ewma";
import { createRoundRobin } from "./load-balancer-round-robin";

export interface LoadBalancer {
  /**
   * One of `candidates` (never empty) for the next attempt; does not count it in flight. `key`: the
   * request's consistent-hash key (hashKey of it), when the policy names one and the request has it.
   */
  pick(candidates: readonly EndpointStats[], nowMs: number, key?: number): EndpointStats;
}

export interface LoadBalancerDeps {
  /** A number in [0, 1), as Math.random. */
  random: () => number;
}

export type LoadBalancerFactory = (deps: LoadBalancerDeps) => LoadBalancer;

/** The default, as in Linkerd: power of two choices over peak-EWMA latency times load. */
export const DEFAULT_LOAD_BALANCER: LoadBalancerKind = "least_request";

const registry = new Map<LoadBalancerKind, LoadBalancerFactory>([
  ["least_request", createP2cEwma],
  ["round_robin", createRoundRobin],
  ["consistent_hash", createConsistentHash],
]);

/** A balancer of `kind` (unknown kinds get the default, so a newer control plane cannot break us). */
export function createLoadBalancer(kind: LoadBalancerKind | undefined, deps: LoadBalancerDeps): LoadBalancer {
  const factory = registry.get(kind ?? DEFAULT_LOAD_BALANCER) ?? registry.get(DEFAULT_LOAD_BALANCER)!;
  return factory(deps);
}
