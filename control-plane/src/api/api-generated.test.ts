// Bad API requests, searched for: valid write requests to the control plane (mesh config documents,
// Consul agent registration, intentions, config entries, KV, authorize) with values swapped for
// the wrong types and shapes, sent to a real control plane. Each gets an answer below 500 (a 500 is
// an exception the validation let through, and tells the user nothing to act on), and what was
// stored before every bad request is still there at the end. WEFT_FUZZ_SEED and WEFT_FUZZ_CASES
// explore further.
import test from "ava";
import { fuzzRun, mutateValues, replay, seededRandom as rng } from "../../../test/support/generated";
import { callApi, startTestControlPlane } from "../test-support";

const DOC = { apiVersion: "weft.dev/v1" };
const SEEDS: Array<{ method: string; path: string; body: unknown }> = [
  {
    method: "POST",
    path: "/api/v1/config/apply",
    body: [
      {
        ...DOC,
        kind: "Service",
        metadata: { name: "reviews" },
        spec: { ports: [{ name: "http", port: 9080, protocol: "http" }] },
      },
      {
        ...DOC,
        kind: "Route",
        metadata: { name: "reviews-canary", labels: { team: "a" } },
        spec: {
          service: "reviews",
          rules: [
            {
              match: { pathPrefix: "/api", method: "GET", headers: { "x-user": "a" } },
              split: [
                { labels: { version: "v1" }, weight: 90 },
                { labels: { version: "v2" }, weight: 10 },
              ],
              timeoutMs: 2000,
            },
          ],
        },
      },
      {
        ...DOC,
        kind: "ResiliencePolicy",
        metadata: { name: "reviews-resilience" },
        spec: {
          service: "reviews",
          loadBalancer: "round_robin",
          circuitBreaker: { maxConnections: 10, maxPendingRequests: 10, maxRequestsPerConnection: 5 },
          rateLimit: {
            requestsPerSecond: 100,
            burst: 10,
            routes: [{ pathPrefix: "/a", requestsPerSecond: 5, burst: 1 }],
          },
        },
      },
      {
        ...DOC,
        kind: "AuthorizationPolicy",
        metadata: { name: "reviews-callers" },
        spec: {
          service: "reviews",
          defaultAction: "ALLOW",
          rules: [{ action: "DENY", from: ["batch"], methods: ["POST"] }],
        },
      },
      {
        ...DOC,
        kind: "Telemetry",
        metadata: { name: "reviews" },
        spec: {
          service: "reviews",
          tracing: { enabled: true, samplingRatio: 0.5 },
          logging: { level: "debug", accessLog: true, sinks: ["control-plane"] },
        },
      },
    ],
  },
  {
    method: "PUT",
    path: "/v1/agent/service/register",
    body: {
      Name: "web",
      ID: "web-9",
      Address: "127.0.0.1",
      Port: 8080,
      Tags: ["primary"],
      Meta: { version: "v3" },
      Check: { Name: "web ttl", TTL: "30s" },
    },
  },
  {
    method: "PUT",
    path: "/v1/connect/intentions/exact?source=batch&destination=reviews",
    body: { Action: "deny", Permissions: undefined },
  },
  {
    method: "PUT",
    path: "/v1/config",
    body: {
      Kind: "service-intentions",
      Name: "reviews",
      Sources: [
        { Name: "*", Action: "deny" },
        { Name: "web", Permissions: [{ Action: "allow", HTTP: { PathPrefix: "/read", Methods: ["GET"] } }] },
      ],
    },
  },
  {
    method: "POST",
    path: "/v1/agent/connect/authorize",
    body: { Target: "reviews", ClientCertURI: "spiffe://weft.local/ns/default/svc/web" },
  },
];

const WRONG: unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e308,
  "",
  "x",
  "Ünïcödé ☃",
  "a".repeat(70),
  true,
  [],
  {},
  [null],
  [{}],
  { a: [] },
];

/** The seed's body with one to three values (or whole subtrees) swapped for the wrong type or shape,
 * removed, or copied under an unknown name. */
const mutate = (r: () => number, body: unknown) =>
  mutateValues(r, body, { wrong: WRONG, drop: 0.1, misspell: 0.1 });

test("mutated write requests are answered below 500, and nothing stored before them is lost", async (t) => {
  const { seed, cases } = fuzzRun(600);
  const cp = await startTestControlPlane(t);
  const call = (method: string, path: string, body?: unknown) => callApi(cp, method, path, body);
  // Every seed is a valid request: the mutations start from what works.
  for (const s of SEEDS) {
    const res = await call(s.method, s.path, s.body);
    t.true(res.status < 300, `seed ${s.method} ${s.path}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  t.is((await call("PUT", "/v1/kv/keep", "safe")).status, 200);
  const stored = async () => ({
    config: await configObjects(),
    services: (await call("GET", "/v1/catalog/services")).body,
  });
  const configObjects = async () => {
    const out: string[] = [];
    for (const plural of [
      "services",
      "routes",
      "resiliencepolicies",
      "telemetries",
      "authorizationpolicies",
    ]) {
      const list = await call("GET", `/api/v1/config/${plural}`);
      t.is(list.status, 200, plural);
      for (const o of list.body as Array<{ kind: string; metadata: { name: string }; spec: unknown }>)
        out.push(JSON.stringify([o.kind, o.metadata.name, o.spec]));
    }
    return out;
  };
  const before = await stored();
  t.true(before.config.length >= 5, "the seeds stored one object of each kind");
  const outcomes = new Map<number, number>();
  // Writes are throttled per client (burst 200, then 100 a second): a 429 is waited out, as its
  // Retry-After asks, and the request sent again.
  const send = async (method: string, path: string, body: unknown) => {
    for (;;) {
      const res = await fetch(`http://${cp.httpAddress}${path}`, { method, body: JSON.stringify(body) });
      const text = await res.text();
      if (res.status !== 429) return { status: res.status, text };
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  for (let i = 0; i < cases; i++) {
    const r = rng(seed + i);
    const s = SEEDS[Math.floor(r() * SEEDS.length)] as (typeof SEEDS)[number];
    const body = mutate(r, s.body);
    const res = await send(s.method, s.path, body);
    outcomes.set(res.status, (outcomes.get(res.status) ?? 0) + 1);
    t.true(
      res.status < 500,
      `${replay(seed + i)}: ${s.method} ${s.path} ${JSON.stringify(body)} -> ${res.status} ${res.text}`,
    );
    if (res.status >= 400) t.true(res.text.trim().length > 0, `a ${res.status} without a reason`);
    // A mutation that was accepted changed what is stored: the seed puts it back.
    else t.true((await send(s.method, s.path, s.body)).status < 300, "the seed is taken again");
  }
  t.log(`${cases} mutated requests: ${[...outcomes].map(([k, v]) => `${v}x ${k}`).join(", ")}`);
  // Accepted mutations may have added things (an instance under another ID, a tag); none took any away.
  const after = await stored();
  for (const [name, tags] of Object.entries(before.services as Record<string, string[]>))
    for (const tag of tags) t.true(after.services[name]?.includes(tag), `service ${name} lost tag ${tag}`);
  for (const o of before.config) t.true(after.config.includes(o), `config changed or lost: ${o}`);
  t.is(Buffer.from((await call("GET", "/v1/kv/keep")).body[0].Value, "base64").toString(), "safe");
});
