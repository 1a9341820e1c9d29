// Consistent hashing (Istio's consistentHash, Envoy's ring hash and Maglev): requests with the same
// key go to the same endpoint while it is in service. Rendezvous hashing: each candidate scores
// mix(hash(key) ^ hash(endpoint)) and the highest wins, so
// - every sidecar sends a key to the same endpoint (the scores depend on the key and the endpoint's
//   address alone);
// - an endpoint that leaves (ejected, unhealthy, gone, or failed by this request's earlier attempt)
//   moves only its own keys, each to its next best; one that comes back takes them back; one added
//   takes about 1/n of the keys from the others;
// - no ring to build or rebuild when endpoints change: a pick is n multiply-xor rounds, and services
//   behind a sidecar have few endpoints.
// A request without the key (the header, cookie or parameter missing) is balanced as least_request.
import type { EndpointStats } from "./endpoint-stats";
import type { LoadBalancer, LoadBalancerDeps } from "./load-balancer";
import { P2cEwmaBalancer } from "./load-balancer-p2c-ewma";

/** FNV-1a over a string's UTF-16 code units: a 32-bit hash, the same in every sidecar. */
export function hashKey(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finalizer: every input bit moves every output bit, so xor-ed hashes score fairly. */
function mix(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Each endpoint's hash, from its key (address:port), computed once. */
const endpointHashes = new WeakMap<EndpointStats, number>();

function endpointHash(s: EndpointStats): number {
  let h = endpointHashes.get(s);
  if (h === undefined) {
    h = hashKey(s.key);
    endpointHashes.set(s, h);
  }
  return h;
}

export class ConsistentHashBalancer implements LoadBalancer {
  private readonly fallback: P2cEwmaBalancer;

  constructor(random: () => number) {
    this.fallback = new P2cEwmaBalancer(random);
  }

  pick(candidates: readonly EndpointStats[], nowMs: number, key?: number): EndpointStats {
    if (key === undefined) return this.fallback.pick(candidates, nowMs);
    let best = candidates[0]!;
    let bestScore = -1;
    for (const c of candidates) {
      const score = mix(key ^ endpointHash(c));
      // Ties (1 in 2^32) go to the lower key, so every sidecar breaks them alike.
      if (score > bestScore || (score === bestScore && c.key < best.key)) {
        best = c;
        bestScore = score;
      }
    }
    return best;
  }
}

export function createConsistentHash(deps: LoadBalancerDeps): LoadBalancer {
  return new ConsistentHashBalancer(deps.random);
}
