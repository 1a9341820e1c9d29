// Least request as Linkerd does it: draw two distinct candidates at random and take the cheaper,
// where cost = peak-EWMA latency x (in flight + 1). Two random choices avoid the herd that "always
// the least loaded" causes when many clients see the same stale numbers, and the EWMA steers work
// away from slow (or fast-failing: see FAILURE_PENALTY_MS) endpoints before anything ejects them.
import type { EndpointStats } from "./endpoint-stats";
import type { LoadBalancer, LoadBalancerDeps } from "./load-balancer";

export class P2cEwmaBalancer implements LoadBalancer {
  constructor(private readonly random: () => number) {}

  pick(candidates: readonly EndpointStats[], nowMs: number): EndpointStats {
    const n = candidates.length;
    if (n === 1) return candidates[0]!;
    const i = Math.floor(this.random() * n) % n;
    // The second draw skips the first, so both choices are distinct.
    let j = Math.floor(this.random() * (n - 1)) % (n - 1);
    if (j >= i) j++;
    const a = candidates[i]!;
    const b = candidates[j]!;
    return b.cost(nowMs) < a.cost(nowMs) ? b : a;
  }
}

export function createP2cEwma(deps: LoadBalancerDeps): LoadBalancer {
  return new P2cEwmaBalancer(deps.random);
}
