// Consistent hashing (policy.loadBalancer "consistent_hash") through the routing layer: a key stays
// on its endpoint, keys spread over the endpoints, an endpoint that leaves or fails moves only its
// own keys, every sidecar agrees, and a request without the key is still served.

import test from "ava";
import type { ConsistentHashSource } from "../../../proto/consistent-hash-rules";
import type { EndpointConfig, PolicyConfig } from "../config/types";
import type { RequestInfo } from "../http/route";
import { Clock, endpoint, get, HTTP80, ok, refused, run, seeded } from "./fixtures";
import { ServiceUpstreams } from "./service-upstreams";

const byHeader: ConsistentHashSource = { httpHeaderName: "x-user" };

function policy(consistentHash: ConsistentHashSource, extra: Partial<PolicyConfig> = {}): PolicyConfig {
  return { service: "web", name: "p", version: 1, loadBalancer: "consistent_hash", consistentHash, ...extra };
}

const user = (name: string): RequestInfo => get("/", [["X-User", name]]);

/** The endpoint one request goes to (its first attempt), answered 200. */
function endpointFor(
  up: ServiceUpstreams,
  endpoints: EndpointConfig[],
  request: RequestInfo | undefined,
  p = policy(byHeader),
  clientAddress?: string,
): string {
  const plan = up.plan({
    service: "web",
    servicePort: HTTP80,
    endpoints,
    policy: p,
    ...(request ? { request } : {}),
    ...(clientAddress ? { clientAddress } : {}),
  });
  const { tried } = run(plan, () => ok());
  return tried[0] ?? "none";
}

const FOUR = [endpoint(1), endpoint(2), endpoint(3), endpoint(4)];
const USERS = Array.from({ length: 2000 }, (_, i) => `user-${i}`);

test("a key stays on one endpoint, and keys spread over all of them", (t) => {
  const up = new ServiceUpstreams({ random: seeded(1) });
  const first = new Map(USERS.map((u) => [u, endpointFor(up, FOUR, user(u))]));
  for (const u of USERS.slice(0, 200)) t.is(endpointFor(up, FOUR, user(u)), first.get(u)!, u);
  const counts = new Map<string, number>();
  for (const e of first.values()) counts.set(e, (counts.get(e) ?? 0) + 1);
  t.deepEqual([...counts.keys()].sort(), ["web-1", "web-2", "web-3", "web-4"]);
  // 500 each if perfectly even; rendezvous hashing over 2000 keys stays well within this.
  for (const [e, n] of counts) t.true(n > 380 && n < 620, `${e} got ${n} of 2000 keys`);
});

test("every sidecar sends a key to the same endpoint, whatever the order it lists them in", (t) => {
  const a = new ServiceUpstreams({ random: seeded(1) });
  const b = new ServiceUpstreams({ random: seeded(99) });
  const reversed = [...FOUR].reverse();
  for (const u of USERS.slice(0, 300))
    t.is(endpointFor(a, FOUR, user(u)), endpointFor(b, reversed, user(u)), u);
});

test("an endpoint that leaves moves only its own keys; when it comes back they return", (t) => {
  const up = new ServiceUpstreams({ random: seeded(1) });
  const before = new Map(USERS.map((u) => [u, endpointFor(up, FOUR, user(u))]));
  const three = FOUR.filter((e) => e.id !== "web-3");
  let moved = 0;
  for (const u of USERS) {
    const now = endpointFor(up, three, user(u));
    if (before.get(u) === "web-3") {
      t.not(now, "web-3");
      moved++;
    } else t.is(now, before.get(u)!, `${u} moved although its endpoint stayed`);
  }
  t.true(moved > 380, `web-3 held ${moved} keys`);
  for (const u of USERS.slice(0, 300)) t.is(endpointFor(up, FOUR, user(u)), before.get(u)!);
});

test("a failed attempt retries the key's next endpoint; an ejected endpoint's keys go elsewhere meanwhile", (t) => {
  const clock = new Clock();
  const up = new ServiceUpstreams({ random: seeded(1), now: clock.now });
  const home = endpointFor(up, FOUR, user("alice"));
  const withRetries = policy(byHeader, {
    outlierDetection: {
      consecutive5xx: 0,
      consecutiveConnectFailures: 1,
      intervalMs: 1000,
      baseEjectionTimeMs: 30_000,
      maxEjectionRatio: 0.5,
    },
  });
  const plan = up.plan({
    service: "web",
    servicePort: HTTP80,
    endpoints: FOUR,
    policy: withRetries,
    request: user("alice"),
  });
  const { tried } = run(plan, (id) => (id === home ? refused : ok()));
  t.is(tried[0], home);
  t.true(tried.length === 2 && tried[1] !== home, `tried ${tried.join(", ")}`);
  // Ejected after the connect failure: alice goes to that same second choice, others stay put.
  t.is(endpointFor(up, FOUR, user("alice"), withRetries), tried[1]!);
  clock.advance(31_000);
  t.is(endpointFor(up, FOUR, user("alice"), withRetries), home, "back home once the ejection is over");
});

test("a request without the key is still balanced; cookie, query parameter and source address are keys too", (t) => {
  const up = new ServiceUpstreams({ random: seeded(1) });
  const seen = new Set(Array.from({ length: 40 }, () => endpointFor(up, FOUR, get("/"))));
  t.true(seen.size >= 2, "no key: spread as least_request, not pinned to one endpoint");

  const cookie = policy({ httpCookieName: "session" });
  const withCookie = (v: string) => get("/", [["cookie", `theme=dark; session=${v}; x=1`]]);
  t.is(endpointFor(up, FOUR, withCookie("s1"), cookie), endpointFor(up, FOUR, user("s1")));

  const query = policy({ httpQueryParameterName: "user" });
  t.is(endpointFor(up, FOUR, get("/cart?a=1&user=s1"), query), endpointFor(up, FOUR, user("s1")));

  const source = policy({ useSourceIp: true });
  const fromApp = (address: string): RequestInfo => ({ ...get("/"), clientAddress: address });
  t.is(endpointFor(up, FOUR, fromApp("10.88.0.5"), source), endpointFor(up, FOUR, user("10.88.0.5")));
  // An opaque TCP connection has no request: its peer's address is the key.
  t.is(endpointFor(up, FOUR, undefined, source, "10.88.0.5"), endpointFor(up, FOUR, user("10.88.0.5")));
});
