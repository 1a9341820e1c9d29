// Outlier detection with Envoy's defaults: 5 consecutive 5xx (or connect failures) eject an
// endpoint for 30 s, the next ejection lasts twice as long, at most half of the endpoints (but one
// of two) are out, all-ejected falls back to everyone (panic), and a success resets the count.
import test from "ava";
import type { EndpointConfig, PolicyConfig } from "../config/types";
import { Metrics } from "../telemetry/metrics";
import { Clock, endpoint, get, HTTP80, key, ok, refused, routes, run, seeded, status } from "./fixtures";
import type { AttemptOutcome } from "./plan";
import { ServiceUpstreams } from "./service-upstreams";

/** Round robin, so the test knows who gets what; ratio when given. */
const policy = (maxEjectionRatio = 0): PolicyConfig => ({
  service: "web",
  name: "p",
  version: 1,
  loadBalancer: "round_robin",
  outlierDetection: {
    consecutive5xx: 0,
    consecutiveConnectFailures: 0,
    intervalMs: 0,
    baseEjectionTimeMs: 0,
    maxEjectionRatio,
  },
});
/** No retries: each request is one attempt, so counts are exact. */
const noRetries = routes({
  retries: {
    attempts: 0,
    perTryTimeoutMs: 0,
    retryOnStatus: [],
    retryOnConnectFailure: false,
    budgetRatio: 0,
  },
});

function setup(endpoints: EndpointConfig[], ratio = 0) {
  const clock = new Clock();
  const metrics = new Metrics();
  const logs: string[] = [];
  const up = new ServiceUpstreams({ now: clock.now, random: seeded(5), metrics, log: (m) => logs.push(m) });
  /** Sends `n` requests (1 ms apart); returns how many each endpoint got. */
  const send = (n: number, answer: (id: string) => AttemptOutcome) => {
    const got: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const plan = up.plan({
        service: "web",
        servicePort: HTTP80,
        endpoints,
        routes: noRetries,
        policy: policy(ratio),
        request: get(),
      });
      for (const id of run(plan, answer).tried) got[id] = (got[id] ?? 0) + 1;
      clock.advance(1);
    }
    return got;
  };
  return { clock, metrics, logs, send };
}

const four = () => [endpoint(1), endpoint(2), endpoint(3), endpoint(4)];

test("5 consecutive 503s eject an endpoint for 30 s; the second ejection lasts twice as long", (t) => {
  const { clock, metrics, logs, send } = setup(four());
  const bad = (id: string) => (id === "web-1" ? status(503) : ok());
  t.is(send(20, bad)["web-1"], 5);
  t.is(send(100, bad)["web-1"], undefined, "ejected: no traffic");
  const ejected = `weft_outlier_ejected{service="web",endpoint="${key(1)}"} 1`;
  t.true(metrics.render().includes(ejected));
  t.true(metrics.render().includes(`weft_outlier_ejections_total{service="web",endpoint="${key(1)}"} 1`));
  t.regex(logs.join("\n"), /ejected 10\.0\.0\.1:80 of service "web" for 30 s after 5 consecutive 5xx/);

  clock.advance(30_000);
  t.false(metrics.render().includes(ejected), "the gauge clears when the time is up, even without traffic");
  t.is(send(20, bad)["web-1"], 5, "back, and failing again");
  t.is(send(100, bad)["web-1"], undefined);
  clock.advance(30_000);
  t.is(send(100, bad)["web-1"], undefined, "still out after 30 s: the second ejection is 60 s");
  clock.advance(30_000);
  t.true((send(8, bad)["web-1"] ?? 0) > 0, "back after 60 s");
  t.true(metrics.render().includes(`weft_outlier_ejections_total{service="web",endpoint="${key(1)}"} 2`));
});

test("a new workload at an ejected endpoint's address starts afresh", (t) => {
  const endpoints = four();
  const { send } = setup(endpoints);
  const bad = (id: string) => (id === "web-1" ? status(503) : ok());
  t.is(send(20, bad)["web-1"], 5);
  t.is(send(40, bad)["web-1"], undefined, "ejected");
  // Another container gets 10.0.0.1: same address and port, another endpoint id.
  endpoints[0] = { ...endpoint(1), id: "web-1b" };
  t.true((send(8, () => ok())["web-1b"] ?? 0) > 0, "the newcomer gets traffic at once");
});

test("5 consecutive connect failures eject too", (t) => {
  const { send } = setup(four());
  const down = (id: string) => (id === "web-2" ? refused : ok());
  t.is(send(20, down)["web-2"], 5);
  t.is(send(40, down)["web-2"], undefined);
});

test("a success resets the consecutive count", (t) => {
  const { send } = setup(four());
  let n = 0;
  // web-1 fails four times in a row, then answers once, over and over: never 5 in a row.
  const flaky = (id: string) => (id !== "web-1" ? ok() : ++n % 5 === 0 ? ok() : status(500));
  t.is(send(400, flaky)["web-1"], 100);
});

test("at most half of the endpoints are ejected, but one of two", (t) => {
  const all = setup(four());
  all.send(40, () => status(503));
  const got = all.send(40, () => status(503));
  t.is(Object.keys(got).length, 2, `still in rotation: ${Object.keys(got)}`);
  const pair = setup([endpoint(1), endpoint(2)], 0.1);
  pair.send(20, () => status(503));
  t.is(Object.keys(pair.send(20, () => status(503))).length, 1);
  const alone = setup([endpoint(1)]);
  alone.send(20, () => status(503));
  t.is(alone.send(20, () => status(503))["web-1"], 20, "a lone endpoint is never ejected");
});

test("when every endpoint is ejected, traffic goes to all of them (panic) rather than failing", (t) => {
  const { send, metrics } = setup([endpoint(1), endpoint(2)], 1);
  send(20, () => status(503));
  const text = metrics.render();
  t.true(text.includes(`weft_outlier_ejected{service="web",endpoint="${key(1)}"} 1`));
  t.true(text.includes(`weft_outlier_ejected{service="web",endpoint="${key(2)}"} 1`));
  const got = send(20, () => ok());
  t.is((got["web-1"] ?? 0) + (got["web-2"] ?? 0), 20);
});
