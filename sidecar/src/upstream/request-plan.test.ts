// Retries, timeouts, the retry budget, circuit breaking, fault injection and TCP connects, as a
// proxy running plans sees them (fixtures.run plays the proxy), and the metrics they leave.
import test from "ava";
import type { PolicyConfig, RetryConfig } from "../config/types";
import { Metrics } from "../telemetry/metrics";
import { Clock, endpoint, get, HTTP80, key, ok, refused, routes, run, seeded, status } from "./fixtures";
import { type AttemptTarget, isRefusal, type RequestPlan } from "./plan";
import { ServiceUpstreams } from "./service-upstreams";

const three = [endpoint(1), endpoint(2), endpoint(3)];

function setup() {
  const clock = new Clock();
  const metrics = new Metrics();
  const up = new ServiceUpstreams({ now: clock.now, random: seeded(11), metrics });
  return { clock, metrics, up };
}

function asPlan(p: ReturnType<ServiceUpstreams["plan"]>): RequestPlan {
  if (!("next" in p)) throw new Error(`refused: ${p.message}`);
  return p;
}

test("by default a GET answered 503 is tried up to 3 times, each on another endpoint", (t) => {
  const { up, metrics } = setup();
  const plan = up.plan({ service: "web", servicePort: HTTP80, endpoints: three, request: get() });
  const { tried } = run(plan, () => status(503));
  t.is(tried.length, 3);
  t.is(new Set(tried).size, 3);
  t.regex(
    metrics.render(),
    /weft_upstream_retries_total\{service="web",endpoint="10\.0\.0\.\d:80",reason="503"\} 1/,
  );
  t.regex(
    metrics.render(),
    /weft_upstream_requests_total\{service="web",endpoint="10\.0\.0\.\d:80",outcome="503"\} 1/,
  );
  const fine = up.plan({ service: "web", servicePort: HTTP80, endpoints: three, request: get() });
  t.is(run(fine, () => status(500)).tried.length, 1, "500 is not in the default retryOn");
});

test("a POST is retried after a connect failure (nothing reached the upstream), not after a 503 or reset", (t) => {
  const { up } = setup();
  const post = () =>
    up.plan({ service: "web", servicePort: HTTP80, endpoints: three, request: get("/", [], "POST") });
  const afterRefused = run(post(), (id) => (id === "web-1" ? refused : ok()));
  // web-1 may not be picked first; when it is, the retry goes elsewhere and succeeds.
  t.true(afterRefused.tried.length <= 2);
  t.not(afterRefused.tried.at(-1), "web-1");
  let n = 0;
  t.is(run(post(), () => (n++ === 0 ? refused : ok())).tried.length, 2);
  t.is(run(post(), () => status(503)).tried.length, 1);
  t.is(run(post(), () => ({ kind: "reset", error: "ECONNRESET" })).tried.length, 1);
  t.is(
    run(up.plan({ service: "web", servicePort: HTTP80, endpoints: three, request: get() }), () => ({
      kind: "reset",
      error: "x",
    })).tried.length,
    3,
  );
});

test("per-try timeouts and route timeouts reach the plan; a GET that times out is retried and counted", (t) => {
  const { up, metrics } = setup();
  const retries: RetryConfig = {
    attempts: 1,
    perTryTimeoutMs: 250,
    retryOnStatus: [],
    retryOnConnectFailure: true,
    budgetRatio: 0,
  };
  const table = routes({ timeoutMs: 2000, retries });
  const plan = asPlan(
    up.plan({ service: "web", servicePort: HTTP80, endpoints: three, routes: table, request: get() }),
  );
  t.is(plan.timeoutMs, 2000);
  t.is(plan.perTryTimeoutMs, 250);
  let n = 0;
  t.is(run(plan, () => (n++ === 0 ? { kind: "timeout" } : ok())).tried.length, 2);
  t.regex(metrics.render(), /weft_upstream_timeouts_total\{service="web",endpoint="10\.0\.0\.\d:80"\} 1/);
  t.regex(
    metrics.render(),
    /weft_upstream_retries_total\{service="web",endpoint="10\.0\.0\.\d:80",reason="timeout"\} 1/,
  );
  const none = asPlan(up.plan({ service: "web", servicePort: HTTP80, endpoints: three, request: get() }));
  t.is(none.timeoutMs, 0);
  t.is(none.perTryTimeoutMs, 0);
});

test("nothing is retried when the proxy cannot replay it or the client went away", (t) => {
  const { up } = setup();
  const plan = asPlan(up.plan({ service: "web", servicePort: HTTP80, endpoints: three, request: get() }));
  const a = plan.next() as AttemptTarget;
  t.false(plan.ended(a, status(503), false));
  const b = plan.next() as AttemptTarget;
  t.false(plan.ended(b, { kind: "cancelled" }, true));
  t.false(plan.ended(b, status(503), true), "a second ended() for one attempt is ignored");
});

test("the retry budget caps retries at 20% of requests (plus 10 per second) when everything fails", (t) => {
  const { up, clock, metrics } = setup();
  let attempts = 0;
  for (let i = 0; i < 2000; i++) {
    const plan = up.plan({ service: "web", servicePort: HTTP80, endpoints: three, request: get() });
    attempts += run(plan, () => status(503)).tried.length;
    clock.advance(2); // 2000 requests in 4 s: inside one budget window
  }
  const retries = attempts - 2000;
  t.true(retries <= 0.2 * 2000 + 100, `${retries} retries`);
  t.true(retries >= 0.2 * 2000, `${retries} retries`);
  t.regex(metrics.render(), /weft_retry_budget_exhausted_total\{service="web"\} \d{3,}/);
});

test("the circuit breaker refuses requests over its limit at once and lets them through when in-flight drops", (t) => {
  const { up, metrics } = setup();
  const policy: PolicyConfig = {
    service: "web",
    name: "p",
    version: 1,
    circuitBreaker: { maxConnections: 2, maxPendingRequests: 1, maxRequestsPerConnection: 100 },
  };
  const request = () =>
    asPlan(up.plan({ service: "web", servicePort: HTTP80, endpoints: three, policy, request: get() }));
  const open: Array<[RequestPlan, AttemptTarget]> = [];
  for (let i = 0; i < 3; i++) {
    const plan = request();
    const target = plan.next();
    if (isRefusal(target)) return t.fail(target.message);
    t.is(target.maxRequestsPerConnection, 100);
    open.push([plan, target]);
  }
  const over = request().next();
  t.like(over, { status: 503, overflow: "pending-requests" });
  if (isRefusal(over)) {
    t.regex(over.message, /"web".*3 requests.*circuitBreaker.*ResiliencePolicy/);
    t.true(over.message.endsWith("\n"));
  }
  const [plan, target] = open[0]!;
  plan.ended(target, ok(), true);
  t.false(isRefusal(request().next()), "room again once one ended");
  t.regex(
    metrics.render(),
    /weft_circuit_breaker_overflows_total\{service="web",kind="pending-requests"\} 1/,
  );
});

test("TCP: a failed connect goes to another endpoint, bounded by attempts; connections over the limit are refused", (t) => {
  const { up, metrics } = setup();
  const connect = (policy?: PolicyConfig) =>
    asPlan(up.plan({ service: "web", servicePort: HTTP80, endpoints: three, ...(policy ? { policy } : {}) }));
  const tried = run(connect(), () => refused).tried;
  t.is(tried.length, 3);
  t.is(new Set(tried).size, 3);
  t.is(run(connect(), () => ({ kind: "reset", error: "x" })).tried.length, 1);
  const p = connect();
  t.is(p.perTryTimeoutMs, 0);
  t.is(p.fault, undefined);
  const policy: PolicyConfig = {
    service: "web",
    name: "p",
    version: 1,
    circuitBreaker: { maxConnections: 1, maxPendingRequests: 0, maxRequestsPerConnection: 0 },
  };
  const first = connect(policy).next();
  t.false(isRefusal(first));
  t.like(connect(policy).next(), { status: 503, overflow: "connections" });
  t.regex(metrics.render(), /weft_circuit_breaker_overflows_total\{service="web",kind="connections"\} 1/);
});

test("faults are injected at their configured ratios, each part on its own", (t) => {
  const { up, metrics } = setup();
  const table = routes({
    name: "chaos",
    fault: { delayRatio: 0.5, delayMs: 100, abortRatio: 0.2, abortStatus: 503 },
  });
  let delayed = 0;
  let aborted = 0;
  let both = 0;
  for (let i = 0; i < 10_000; i++) {
    const plan = asPlan(
      up.plan({ service: "web", servicePort: HTTP80, endpoints: three, routes: table, request: get() }),
    );
    if (plan.fault?.delayMs) delayed++;
    if (plan.fault?.abortStatus) aborted++;
    if (plan.fault?.delayMs && plan.fault.abortStatus) both++;
    if (plan.fault) t.true(plan.fault.delayMs === 100 || plan.fault.delayMs === 0);
  }
  t.true(Math.abs(delayed / 10_000 - 0.5) < 0.02, `delayed ${delayed}`);
  t.true(Math.abs(aborted / 10_000 - 0.2) < 0.02, `aborted ${aborted}`);
  t.true(Math.abs(both / 10_000 - 0.1) < 0.02, `both ${both}`);
  t.regex(
    metrics.render(),
    new RegExp(`weft_faults_injected_total\\{service="web",route="chaos",kind="abort"\\} ${aborted}`),
  );
  const calm = asPlan(up.plan({ service: "web", servicePort: HTTP80, endpoints: three, request: get() }));
  t.is(calm.fault, undefined);
});

test("no endpoints at all is a 503 that says what to check", (t) => {
  const { up } = setup();
  const p = up.plan({ service: "web", servicePort: HTTP80, endpoints: [], request: get() });
  t.like(p, { status: 503, route: "default" });
  if (!("next" in p)) t.regex(p.message, /no healthy endpoints for service "web" \(port 80\).*\n$/);
  t.is(key(1), "10.0.0.1:80");
});
