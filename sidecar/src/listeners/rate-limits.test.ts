// Token buckets on a clock the test moves: a burst passes, the rest wait their refill, a route's
// bucket is its own, an exempt route is never counted, and a new policy starts full buckets.
import test from "ava";
import type { PolicyConfig } from "../config/types";
import type { RequestInfo } from "../http/route";
import { Metrics } from "../telemetry/metrics";
import { InboundRateLimits, TokenBucket } from "./rate-limits";

const request = (path: string, method = "GET"): RequestInfo => ({
  method,
  path,
  authority: "shop",
  headers: [],
  protocol: "http1",
});

test("a bucket lets a burst through, then one request per 1/rate seconds, and says how long to wait", (t) => {
  const b = new TokenBucket(2, 4, 0);
  t.deepEqual(
    [0, 0, 0, 0, 0].map(() => b.take(0)),
    [0, 0, 0, 0, 1],
    "four at once, the fifth waits a second",
  );
  t.is(b.take(499), 1, "half a token is not one");
  t.is(b.take(500), 0, "a token after 1/2 s");
  t.is(b.take(10_000), 0);
  t.is(b.take(10_000), 0);
  t.is(b.take(10_000), 0);
  t.is(b.take(10_000), 0, "refilled to the burst, never past it");
  t.is(b.take(10_000), 1);
  const slow = new TokenBucket(1, 1, 0);
  slow.take(0);
  t.is(slow.take(0), 1);
  const slower = new TokenBucket(0.25, 1, 0);
  slower.take(0);
  t.is(slower.take(0), 4, "Retry-After is the whole seconds until a token");
});

test("requests over the instance's rate get a 429 naming the limit; routes have buckets of their own", (t) => {
  let now = 0;
  const metrics = new Metrics();
  const limits = new InboundRateLimits(metrics, () => now);
  const policy: PolicyConfig = {
    service: "shop",
    name: "shop-limits",
    version: 1,
    rateLimit: {
      requestsPerSecond: 3,
      routes: [
        { pathExact: "/healthz", requestsPerSecond: 0 },
        { pathPrefix: "/api", method: "POST", requestsPerSecond: 1 },
      ],
    },
  };
  const check = (path: string, method?: string) => limits.check(policy, "shop", request(path, method));
  t.is(check("/"), undefined);
  t.is(check("/x?page=2"), undefined);
  t.is(check("/"), undefined);
  const over = check("/");
  t.like(over, { status: 429, rateLimited: { limit: "instance", retryAfterSeconds: 1 } });
  t.regex(
    over?.message ?? "",
    /each instance of shop takes at most 3 requests per second \(ResiliencePolicy shop-limits\)/,
  );
  for (let i = 0; i < 20; i++) t.is(check("/healthz"), undefined, "an exempt route is never limited");
  t.is(check("/api/orders", "POST"), undefined, "the route's own bucket was full");
  t.like(check("/api/orders?x=1", "POST"), { status: 429, rateLimited: { limit: "route POST /api*" } });
  now = 1000;
  t.is(check("/api/orders", "POST"), undefined, "refilled after a second");
  t.is(check("/"), undefined);
  const text = metrics.render();
  t.regex(text, /weft_rate_limited_requests_total\{service="shop",limit="instance"\} 1/);
  t.regex(text, /weft_rate_limited_requests_total\{service="shop",limit="route POST \/api\*"\} 1/);

  // A new policy (another object, as the store keeps one per push) starts with full buckets.
  const raised = { ...policy, version: 2, rateLimit: { requestsPerSecond: 100 } };
  for (let i = 0; i < 100; i++)
    t.is(limits.check(raised, "shop", request("/")), undefined, `request ${i} of the new burst`);
  t.truthy(limits.check(raised, "shop", request("/")));
  t.is(limits.check(undefined, "shop", request("/")), undefined, "no policy: nothing limited");
});
