// Rate limits on the requests a sidecar receives for its own service (ResiliencePolicy rateLimit,
// as Consul's instance-level limits and Envoy's local rate limit): token buckets of this instance
// alone, checked before a request reaches the app. A request that finds its bucket empty is answered
// 429 with Retry-After (gRPC: RESOURCE_EXHAUSTED) by the sidecar. Buckets start full and are made
// again when the policy changes. Opaque TCP is not limited (no requests to count).

import { matchingRoute, type RateLimitSpec } from "../../../proto/rate-limit-rules";
import type { PolicyConfig } from "../config/types";
import type { RequestInfo, RouteRefusal } from "../http/route";
import type { Metrics } from "../telemetry/metrics";

/** A token bucket: up to `burst` tokens, `rate` more per second, one per request. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes a token at `nowMs`: 0 when there was one, else the seconds until there is (at least 1). */
  take(nowMs: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) / 1000) * this.rate);
    this.last = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.rate));
  }
}

interface Limits {
  spec: RateLimitSpec;
  instance?: TokenBucket;
  /** One per route; undefined for a route that is not limited (requestsPerSecond 0). */
  routes: Array<TokenBucket | undefined>;
}

export class InboundRateLimits {
  private limits?: Limits;

  constructor(
    private readonly metrics: Metrics,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The refusal for a request over its limit; undefined when it may go on (or nothing limits it). */
  check(policy: PolicyConfig | undefined, service: string, req: RequestInfo): RouteRefusal | undefined {
    const spec = policy?.rateLimit;
    if (!spec) {
      this.limits = undefined;
      return undefined;
    }
    const limits = this.limitsFor(spec);
    const q = req.path.indexOf("?");
    const path = q < 0 ? req.path : req.path.slice(0, q);
    const i = matchingRoute(spec.routes ?? [], req.method, path);
    const bucket = i < 0 ? limits.instance : limits.routes[i];
    if (!bucket) return undefined;
    const waitSeconds = bucket.take(this.now());
    if (waitSeconds === 0) return undefined;
    const route = i < 0 ? undefined : (spec.routes?.[i] as NonNullable<RateLimitSpec["routes"]>[number]);
    const scope = route
      ? `${route.method ? `${route.method} ` : ""}${route.pathExact ?? `${route.pathPrefix}*`}`
      : "";
    const limit = route ? `route ${scope}` : "instance";
    this.metrics.rateLimited(service, limit);
    return {
      status: 429,
      message:
        `rate limited: each instance of ${service} takes at most ${bucket.rate} request${bucket.rate === 1 ? "" : "s"} per second` +
        `${route ? ` on ${scope}` : ""} (ResiliencePolicy ${policy?.name}); retry after ${waitSeconds} s\n`,
      rateLimited: { limit, retryAfterSeconds: waitSeconds },
    };
  }

  private limitsFor(spec: RateLimitSpec): Limits {
    if (this.limits?.spec === spec) return this.limits;
    const now = this.now();
    const bucket = (rate: number, burst: number | undefined) =>
      rate > 0 ? new TokenBucket(rate, burst || rate, now) : undefined;
    this.limits = {
      spec,
      instance: bucket(spec.requestsPerSecond ?? 0, spec.burst),
      routes: (spec.routes ?? []).map((r) => bucket(r.requestsPerSecond, r.burst)),
    };
    return this.limits;
  }
}
