// Everything the routing layer remembers about one service between requests: its endpoints'
// stats, the balancer, the circuit breaker's counts, the retry budget and outlier detection.
import type { EndpointConfig, LoadBalancerKind, PortConfig } from "../config/types";
import { CircuitBreaker } from "./circuit-breaker";
import { DEFAULT_RTT_MS, EndpointStats, endpointKey, endpointPort } from "./endpoint-stats";
import { createLoadBalancer, DEFAULT_LOAD_BALANCER, type LoadBalancer } from "./load-balancer";
import { OutlierDetector, type OutlierEvents } from "./outlier-detection";
import { RetryBudget } from "./retry-budget";

export class ServiceState {
  readonly stats = new Map<string, EndpointStats>();
  readonly breaker = new CircuitBreaker();
  readonly budget = new RetryBudget();
  readonly detector: OutlierDetector;
  balancer: LoadBalancer;
  private balancerKind: LoadBalancerKind;
  /** The last sync's endpoints (a copy of the list), service port and answer: the config store
   * hands out the same endpoint objects until a push changes them, so most requests need no new
   * array, key strings or set. */
  private synced?: { endpoints: EndpointConfig[]; servicePort: PortConfig; out: EndpointStats[] };

  constructor(
    readonly name: string,
    private readonly random: () => number,
    events: OutlierEvents,
  ) {
    this.detector = new OutlierDetector(events);
    this.balancerKind = DEFAULT_LOAD_BALANCER;
    this.balancer = createLoadBalancer(this.balancerKind, { random });
  }

  /** Switches the balancer when the policy names another kind (a new one starts fresh). */
  useBalancer(kind: LoadBalancerKind | undefined): void {
    const wanted = kind ?? DEFAULT_LOAD_BALANCER;
    if (wanted === this.balancerKind) return;
    this.balancerKind = wanted;
    this.balancer = createLoadBalancer(wanted, { random: this.random });
  }

  /**
   * The stats of `endpoints` (the service's healthy endpoints now), created for new ones; stats of
   * endpoints no longer listed are dropped once nothing is in flight to them. `gone` hears of each.
   */
  sync(
    endpoints: readonly EndpointConfig[],
    servicePort: PortConfig,
    nowMs: number,
    gone: (stats: EndpointStats) => void,
  ): EndpointStats[] {
    const last = this.synced;
    // The same endpoints as last time, and no stats of departed ones waiting for their requests.
    if (
      last &&
      last.servicePort === servicePort &&
      this.stats.size === last.out.length &&
      sameItems(last.endpoints, endpoints)
    )
      return last.out;
    const out: EndpointStats[] = [];
    const seen = new Set<string>();
    for (const endpoint of endpoints) {
      const port = endpointPort(endpoint, servicePort);
      const key = endpointKey(endpoint.address, port);
      let stats = this.stats.get(key);
      // A new workload at a reused address (another container got the IP) starts afresh: it must
      // not inherit the previous one's ejection or latency.
      const reused = stats !== undefined && stats.endpoint.id !== "" && stats.endpoint.id !== endpoint.id;
      if (stats && reused) gone(stats);
      if (!stats || reused) {
        stats = new EndpointStats(endpoint, port, this.neutralRttMs(nowMs), nowMs);
        this.stats.set(key, stats);
      } else {
        stats.endpoint = endpoint; // labels or id may have changed
      }
      if (!seen.has(key)) out.push(stats);
      seen.add(key);
    }
    if (this.stats.size > seen.size) {
      for (const [key, stats] of this.stats) {
        if (seen.has(key) || stats.inFlight > 0) continue;
        this.stats.delete(key);
        gone(stats);
      }
    }
    this.synced = { endpoints: [...endpoints], servicePort, out };
    return out;
  }

  /**
   * What a new endpoint's latency is assumed to be: its peers' median (as if it were a typical
   * one), so it gets its share at once rather than every request (zero) or none (high).
   */
  private neutralRttMs(nowMs: number): number {
    const rtts = [...this.stats.values()].map((s) => s.rttMs(nowMs)).sort((a, b) => a - b);
    return rtts[Math.floor(rtts.length / 2)] || DEFAULT_RTT_MS;
  }
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
