// Round robin: candidates take turns. The cursor survives changes to the candidate list (it is
// taken modulo the current length), so an endpoint push does not send everyone to the first one.
import type { EndpointStats } from "./endpoint-stats";
import type { LoadBalancer } from "./load-balancer";

export class RoundRobinBalancer implements LoadBalancer {
  private cursor = 0;

  pick(candidates: readonly EndpointStats[]): EndpointStats {
    const picked = candidates[this.cursor % candidates.length]!;
    this.cursor = (this.cursor + 1) % 1_000_000_000;
    return picked;
  }
}

export function createRoundRobin(): LoadBalancer {
  return new RoundRobinBalancer();
}
