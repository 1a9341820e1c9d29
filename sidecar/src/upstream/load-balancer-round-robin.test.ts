// Round robin (policy.loadBalancer "round_robin"), moved here from the first round-robin.ts: turns
// per service, an empty service, and the endpoint port that serves a named service port.
import test from "ava";
import type { EndpointConfig, PolicyConfig } from "../config/types";
import { endpoint, get, HTTP80, ok, run } from "./fixtures";
import { endpointPort } from "./index";
import { type AttemptTarget, isRefusal } from "./plan";
import { ServiceUpstreams } from "./service-upstreams";

const roundRobin = (service: string): PolicyConfig => ({
  service,
  name: "p",
  version: 1,
  loadBalancer: "round_robin",
});

function pick(up: ServiceUpstreams, service: string, endpoints: EndpointConfig[]): AttemptTarget | number {
  const plan = up.plan({
    service,
    servicePort: HTTP80,
    endpoints,
    policy: roundRobin(service),
    request: get(),
  });
  if (!("next" in plan)) return plan.status;
  const target = plan.next();
  if (isRefusal(target)) return target.status;
  plan.ended(target, ok(), true);
  return target;
}

const id = (t: AttemptTarget | number) => (typeof t === "number" ? t : t.endpoint);

test("endpoints take turns", (t) => {
  const up = new ServiceUpstreams();
  const eps = [endpoint(1), endpoint(2), endpoint(3)];
  const picked = Array.from({ length: 6 }, () => id(pick(up, "web", eps)));
  t.deepEqual(picked, ["web-1", "web-2", "web-3", "web-1", "web-2", "web-3"]);
});

test("each service has its own turn", (t) => {
  const up = new ServiceUpstreams();
  const eps = [endpoint(1), endpoint(2)];
  t.is(id(pick(up, "a", eps)), "web-1");
  t.is(id(pick(up, "b", eps)), "web-1");
  t.is(id(pick(up, "a", eps)), "web-2");
});

test("no endpoints is a 503", (t) => {
  t.is(pick(new ServiceUpstreams(), "web", []), 503);
});

test("a named endpoint port serves the service port of that name", (t) => {
  const named = { ...endpoint(1), ports: [{ name: "http", port: 8080, protocol: "http" as const }] };
  const up = new ServiceUpstreams();
  t.like(pick(up, "web", [named]), { host: "10.0.0.1", port: 8080 });
  t.like(pick(up, "other", [endpoint(1)]), { host: "10.0.0.1", port: 80 });
  t.is(endpointPort(named, HTTP80), 8080);
  t.is(endpointPort(named, { name: "", port: 80, protocol: "http" }), 80);
});

test("the round robin is fair under a run of plans with retries", (t) => {
  const up = new ServiceUpstreams();
  const counts: Record<string, number> = {};
  for (let i = 0; i < 300; i++) {
    const plan = up.plan({
      service: "web",
      servicePort: HTTP80,
      endpoints: [endpoint(1), endpoint(2), endpoint(3)],
      policy: roundRobin("web"),
      request: get(),
    });
    for (const e of run(plan, () => ok()).tried) counts[e] = (counts[e] ?? 0) + 1;
  }
  t.deepEqual(counts, { "web-1": 100, "web-2": 100, "web-3": 100 });
});
