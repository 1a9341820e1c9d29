// Bad queries, searched for: the read endpoints people and tools call (trace search and one trace,
// the service graph, log search, services and instances, Consul's catalog, health, KV, intentions and
// config entries, Prometheus SD) with their parameters given odd values, repeated, or joined by
// unknown ones, against a real control plane holding a registered service and a KV key.
// Each is answered below 500 (but for Consul's own 500 for an unknown datacenter), a 4xx with a
// reason, and the control plane still answers a good query afterwards. WEFT_FUZZ_SEED and
// WEFT_FUZZ_CASES explore further.
import test from "ava";
import { fuzzRun, replay, seededRandom } from "../../../test/support/generated";
import { callApi, startTestControlPlane } from "../test-support";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

/** Each endpoint with the parameters it takes. */
const QUERIES: Array<[string, string[]]> = [
  ["/api/v1/traces", ["service", "operation", "minDurationMs", "status", "since", "limit"]],
  [`/api/v1/traces/${TRACE_ID}`, []],
  ["/api/v1/traces/zz", []],
  ["/api/v1/graph", ["since"]],
  ["/api/v1/logs", ["service", "container", "level", "traceId", "q", "since", "limit"]],
  ["/api/v1/services", []],
  ["/api/v1/services/web", []],
  ["/api/v1/services/web/endpoints", []],
  ["/api/v1/services/web/instances", ["since"]],
  ["/api/v1/proxies", []],
  ["/api/v1/sd/prometheus", []],
  ["/v1/catalog/services", ["index", "wait", "dc", "tag"]],
  ["/v1/catalog/service/web", ["index", "wait", "dc", "tag", "near", "filter"]],
  ["/v1/health/service/web", ["index", "wait", "passing", "tag", "dc"]],
  ["/v1/kv/app/", ["recurse", "keys", "separator", "raw", "index", "wait", "dc"]],
  ["/v1/connect/intentions", ["filter"]],
  ["/v1/connect/intentions/match", ["by", "name"]],
  ["/v1/connect/intentions/check", ["source", "destination"]],
  ["/v1/connect/intentions/exact", ["source", "destination"]],
  ["/v1/config/service-intentions", []],
  ["/v1/agent/services", []],
  ["/v1/agent/checks", []],
];

const VALUES = [
  "",
  "0",
  "-1",
  "1.5",
  "1e309",
  "99999999999999999999999",
  "abc",
  "web",
  "*",
  "%",
  "%00",
  "\u0000",
  "ünï",
  "a".repeat(5000),
  "15m",
  "1ms",
  "99999999d",
  "2024-13-45T99:99:99Z",
  "2024-05-01T10:00:00Z",
  "error",
  "ERROR",
  "warn",
  "true",
  "false",
  TRACE_ID,
  "source",
  "destination",
  // A blocking query waits at most this long; longer ones are left out so the test stays quick.
  "20ms",
  'Service == "web"',
  "Service ==",
];

test("generated queries to the read endpoints are answered below 500, and a good query still works", async (t) => {
  const { seed, cases } = fuzzRun(800);
  const cp = await startTestControlPlane(t);
  const call = (method: string, path: string, body?: unknown) => callApi(cp, method, path, body);
  t.is(
    (
      await call("PUT", "/v1/agent/service/register", {
        Name: "web",
        ID: "web-1",
        Address: "127.0.0.1",
        Port: 8080,
      })
    ).status,
    200,
  );
  t.is((await call("PUT", "/v1/kv/app/flag", "on")).status, 200);
  const outcomes = new Map<number, number>();
  for (let i = 0; i < cases; i++) {
    const r = seededRandom(seed + i);
    const [path, params] = QUERIES[Math.floor(r() * QUERIES.length)] as [string, string[]];
    const q = new URLSearchParams();
    for (let n = Math.floor(r() * 4); n > 0; n--) {
      const name =
        r() < 0.9 && params.length > 0 ? (params[Math.floor(r() * params.length)] as string) : "nope";
      q.append(name, VALUES[Math.floor(r() * VALUES.length)] as string);
    }
    const url = `http://${cp.httpAddress}${path}${q.size > 0 ? `?${q}` : ""}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    outcomes.set(res.status, (outcomes.get(res.status) ?? 0) + 1);
    // Consul itself answers an unknown ?dc= with 500 "No path to datacenter", and its clients expect it.
    const consulDc = res.status === 500 && text.includes("No path to datacenter");
    t.true(
      res.status < 500 || consulDc,
      `${replay(seed + i)}: GET ${url.slice(0, 300)} -> ${res.status} ${text.slice(0, 300)}`,
    );
    // A key that is not there is an empty 404, as Consul answers it (clients test the status alone).
    const kvMiss = res.status === 404 && path.startsWith("/v1/kv/");
    if (res.status >= 400 && !kvMiss)
      t.true(text.trim().length > 0, `GET ${url.slice(0, 200)}: a ${res.status} without a reason`);
  }
  t.log(`${cases} queries: ${[...outcomes].map(([k, v]) => `${v}x ${k}`).join(", ")}`);
  t.true((outcomes.get(200) ?? 0) > 0 && (outcomes.get(400) ?? 0) > 0, "the queries reach both outcomes");
  const good = await call("GET", "/v1/catalog/service/web");
  t.is(good.status, 200);
  t.is(good.body[0]?.ServiceID, "web-1");
});
