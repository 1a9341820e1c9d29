// Least request (the default: P2C over peak EWMA) as a user sees it: work goes to the faster and
// the less loaded endpoint, a new endpoint gets a share at once, and an endpoint that fails fast is
// starved even before outlier detection ejects it.
import test from "ava";
import type { PolicyConfig } from "../config/types";
import { EndpointStats } from "./endpoint-stats";
import { Clock, endpoint, get, HTTP80, ok, refused, run, seeded } from "./fixtures";
import { createLoadBalancer } from "./load-balancer";
import { ServiceUpstreams } from "./service-upstreams";

const stats = (n: number, rttMs: number) => new EndpointStats(endpoint(n), 80, rttMs, 0);

test("least request picks the faster of two endpoints, and the less loaded of two equal ones", (t) => {
  const lb = createLoadBalancer("least_request", { random: seeded(2) });
  const fast = stats(1, 5);
  const slow = stats(2, 50);
  const counts = new Map<EndpointStats, number>();
  for (let i = 0; i < 1000; i++) {
    const p = lb.pick([fast, slow], 0);
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  t.is(counts.get(fast), 1000);
  const busy = stats(3, 10);
  const idle = stats(4, 10);
  busy.inFlight = 3;
  for (let i = 0; i < 100; i++) t.is(lb.pick([busy, idle], 0), idle);
});

test("least request learns latency from responses and still gives a new endpoint its share", (t) => {
  const clock = new Clock();
  const up = new ServiceUpstreams({ now: clock.now, random: seeded(3) });
  const latency: Record<string, number> = { "web-1": 5, "web-2": 80, "web-3": 5 };
  const counts: Record<string, number> = {};
  const send = (endpoints: ReturnType<typeof endpoint>[]) => {
    const plan = up.plan({ service: "web", servicePort: HTTP80, endpoints, request: get() });
    const [id] = run(plan, (e) => ok(latency[e])).tried;
    counts[id!] = (counts[id!] ?? 0) + 1;
    clock.advance(latency[id!]!);
  };
  for (let i = 0; i < 1000; i++) send([endpoint(1), endpoint(2)]);
  t.true((counts["web-1"] ?? 0) > 950, `fast endpoint got ${counts["web-1"]} of 1000`);
  for (const k of Object.keys(counts)) delete counts[k];
  for (let i = 0; i < 1000; i++) send([endpoint(1), endpoint(2), endpoint(3)]);
  // web-3 starts at its peers' median latency, so it is neither flooded nor starved.
  t.true((counts["web-3"] ?? 0) > 200, `new endpoint got ${counts["web-3"]} of 1000`);
  t.true((counts["web-3"] ?? 0) < 800, `new endpoint got ${counts["web-3"]} of 1000`);
});

test("an endpoint that fails fast gets little traffic even before it is ejected", (t) => {
  const clock = new Clock();
  const up = new ServiceUpstreams({ now: clock.now, random: seeded(4) });
  // Outlier detection effectively off: only the latency penalty of failures steers traffic here.
  const policy: PolicyConfig = {
    service: "web",
    name: "p",
    version: 1,
    outlierDetection: {
      consecutive5xx: 1e6,
      consecutiveConnectFailures: 1e6,
      intervalMs: 0,
      baseEjectionTimeMs: 0,
      maxEjectionRatio: 0,
    },
  };
  const firstTries: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) {
    const plan = up.plan({
      service: "web",
      servicePort: HTTP80,
      endpoints: [endpoint(1), endpoint(2), endpoint(3)],
      policy,
      request: get(),
    });
    const { tried } = run(plan, (e) => (e === "web-2" ? refused : ok(20)));
    firstTries[tried[0]!] = (firstTries[tried[0]!] ?? 0) + 1;
    clock.advance(20);
  }
  t.true((firstTries["web-2"] ?? 0) < 50, `failing endpoint got ${firstTries["web-2"]} of 1000 first tries`);
});
