// The HTTP API with fetch and with the real npm `consul` client.
import test from "ava";
import Consul from "consul";
import { syncEndpoints } from "../grpc-testing";
import { startTestControlPlane, type TestControlPlane } from "../test-support";

const port = (p: number, protocol = "http") => ({ name: "", port: p, protocol });

async function withBookinfo(cp: TestControlPlane): Promise<void> {
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    services: [{ name: "reviews", ports: [port(9080), port(9090, "tcp")] }],
    endpoints: [
      {
        id: "c1",
        service: "reviews",
        address: "10.88.0.2",
        ports: [port(9080)],
        labels: { version: "v1", team: "books" },
        workload: "reviews-1",
        node: "n1",
        healthy: true,
      },
      {
        id: "c2",
        service: "reviews",
        address: "10.88.0.3",
        ports: [port(9080)],
        labels: { version: "v2" },
        workload: "reviews-2",
        node: "n1",
        healthy: false,
      },
    ],
  });
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n2",
    endpoints: [
      { id: "d1", service: "ratings", address: "10.89.0.2", ports: [port(9080)], node: "n2", healthy: true },
    ],
  });
}

async function get(
  cp: TestControlPlane,
  path: string,
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(`http://${cp.httpAddress}${path}`);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

test("REST lists services with VIPs, ports, endpoint counts and origin", async (t) => {
  const cp = await startTestControlPlane(t);
  await withBookinfo(cp);
  const list = await get(cp, "/api/v1/services");
  t.is(list.status, 200);
  t.deepEqual(list.body, [
    {
      name: "ratings",
      virtualIp: "10.96.0.3",
      ports: [{ name: "", port: 9080, protocol: "http" }],
      labels: {},
      origin: "implied",
      endpoints: 1,
      healthyEndpoints: 1,
    },
    {
      name: "reviews",
      virtualIp: "10.96.0.2",
      ports: [
        { name: "", port: 9080, protocol: "http" },
        { name: "", port: 9090, protocol: "tcp" },
      ],
      labels: {},
      origin: "implied",
      endpoints: 2,
      healthyEndpoints: 1,
    },
  ]);
  const one = await get(cp, "/api/v1/services/reviews");
  t.is((one.body as { virtualIp: string }).virtualIp, "10.96.0.2");
  const endpoints = await get(cp, "/api/v1/services/reviews/endpoints");
  t.deepEqual(
    (endpoints.body as Array<{ id: string; healthy: boolean; source: string; workload: string }>).map((e) => [
      e.id,
      e.healthy,
      e.source,
      e.workload,
    ]),
    [
      ["c1", true, "daemon:n1", "reviews-1"],
      ["c2", false, "daemon:n1", "reviews-2"],
    ],
  );
});

test("bad requests get 400/404/405 with a reason, and the server keeps serving", async (t) => {
  const cp = await startTestControlPlane(t);
  const missing = await get(cp, "/api/v1/services/nope");
  t.is(missing.status, 404);
  t.deepEqual(missing.body, { error: "service \"nope\" not found; list services with 'weft services'" });
  t.is((await get(cp, "/api/v1/services/nope/endpoints")).status, 404);
  const route = await get(cp, "/api/v2/whatever");
  t.is(route.status, 404);
  t.regex((route.body as { error: string }).error, /no route/);
  const cases: Array<[string, RegExp]> = [
    ["/api/v1/services/%E0%A4%A", /percent-encoding/],
    ["/api/v1/services/bad%20name", /not a valid service name/],
    ["/v1/catalog/services?index=abc", /index "abc"/],
    ["/v1/catalog/services?index=1&wait=soon", /wait "soon"/],
  ];
  for (const [path, reason] of cases) {
    const r = await get(cp, path);
    t.is(r.status, 400, path);
    t.regex((r.body as { error: string }).error, reason, path);
  }
  const post = await fetch(`http://${cp.httpAddress}/api/v1/services`, { method: "POST", body: "{" });
  t.is(post.status, 405);
  t.is((await get(cp, "/api/v1/services")).status, 200);
});

test("Consul catalog and health answers have Consul's shape and headers", async (t) => {
  const cp = await startTestControlPlane(t);
  await withBookinfo(cp);
  const services = await get(cp, "/v1/catalog/services");
  t.deepEqual(services.body, { ratings: [], reviews: ["version=v1", "version=v2"] });
  t.is(services.headers.get("x-consul-index"), String(cp.registry.index()));
  t.is(services.headers.get("x-consul-knownleader"), "true");
  t.is(services.headers.get("x-consul-lastcontact"), "0");

  const nodes = (await get(cp, "/v1/catalog/service/reviews")).body as Array<Record<string, unknown>>;
  t.is(nodes.length, 2);
  t.like(nodes[0], {
    Node: "n1",
    Address: "10.88.0.2",
    Datacenter: "dc1",
    ServiceID: "c1",
    ServiceName: "reviews",
    ServiceAddress: "10.88.0.2",
    ServicePort: 9080,
    ServiceTags: ["version=v1"],
    ServiceMeta: { version: "v1", team: "books" },
  });
  t.is(typeof nodes[0]!.CreateIndex, "number");
  t.is(typeof nodes[0]!.ModifyIndex, "number");

  const health = (await get(cp, "/v1/health/service/reviews")).body as Array<{
    Node: { Node: string };
    Service: { ID: string; Port: number };
    Checks: Array<{ CheckID: string; Status: string }>;
  }>;
  t.deepEqual(
    health.map((h) => [h.Service.ID, h.Checks.map((c) => `${c.CheckID}=${c.Status}`)]),
    [
      ["c1", ["serfHealth=passing", "service:c1=passing"]],
      ["c2", ["serfHealth=passing", "service:c2=critical"]],
    ],
  );
  const passing = (await get(cp, "/v1/health/service/reviews?passing")).body as typeof health;
  t.deepEqual(
    passing.map((h) => h.Service.ID),
    ["c1"],
  );
  t.deepEqual(
    (await get(cp, "/v1/catalog/service/unknown")).body,
    [],
    "Consul answers [] for unknown services",
  );
  t.deepEqual(
    (
      (await get(cp, "/v1/catalog/service/reviews?tag=version%3Dv2")).body as Array<{ ServiceID: string }>
    ).map((n) => n.ServiceID),
    ["c2"],
  );
});

test("Consul's service lookups find a service whatever the case asked, as Consul's do; the list keeps each spelling", async (t) => {
  const cp = await startTestControlPlane(t);
  await withBookinfo(cp);
  // Two Consul clients spelled one service two ways (Consul's own example: "redis" and "Redis").
  await syncEndpoints(cp.grpcAddress, {
    source: "agent:n3",
    endpoints: [
      {
        id: "p1",
        service: "PaymentService",
        address: "10.90.0.2",
        ports: [port(8080)],
        node: "n3",
        healthy: true,
      },
      {
        id: "p2",
        service: "paymentservice",
        address: "10.90.0.3",
        ports: [port(8080)],
        node: "n3",
        healthy: true,
      },
    ],
  });
  const ids = async (path: string) =>
    (
      (await get(cp, path)).body as Array<{ ServiceID?: string; Service?: { ID: string; Service: string } }>
    ).map((e) => e.ServiceID ?? `${e.Service?.ID}:${e.Service?.Service}`);
  for (const name of ["PaymentService", "paymentservice", "PAYMENTSERVICE"]) {
    t.deepEqual(await ids(`/v1/catalog/service/${name}`), ["p1", "p2"], name);
    t.deepEqual(
      await ids(`/v1/health/service/${name}?passing`),
      ["p1:PaymentService", "p2:paymentservice"],
      name,
    );
  }
  t.deepEqual(await ids("/v1/catalog/service/Reviews?tag=version%3Dv1"), ["c1"]);
  t.deepEqual(await ids("/v1/health/service/RATINGS"), ["d1:ratings"]);
  const listed = (await get(cp, "/v1/catalog/services")).body as Record<string, string[]>;
  t.deepEqual(Object.keys(listed).sort(), ["PaymentService", "paymentservice", "ratings", "reviews"]);
  t.deepEqual((await get(cp, "/v1/catalog/service/payment")).body, []);
});

test("the npm consul client reads the registry", async (t) => {
  const cp = await startTestControlPlane(t);
  await withBookinfo(cp);
  const [host, portText] = cp.httpAddress.split(":");
  const consul = new Consul({ host: host!, port: Number(portText) });
  t.deepEqual(await consul.catalog.service.list(), { ratings: [], reviews: ["version=v1", "version=v2"] });
  const nodes = await consul.catalog.service.nodes("reviews");
  t.deepEqual(
    nodes.map((n) => `${n.ServiceAddress}:${n.ServicePort}`),
    ["10.88.0.2:9080", "10.88.0.3:9080"],
  );
  const healthy = await consul.health.service({ service: "reviews", passing: true });
  t.deepEqual(
    healthy.map((h) => h.Service.Address),
    ["10.88.0.2"],
  );
});

test("a blocking query returns when the registry changes, or when the wait elapses", async (t) => {
  const cp = await startTestControlPlane(t);
  await withBookinfo(cp);
  const index = cp.registry.index();
  const started = Date.now();
  const timedOut = await get(cp, `/v1/health/service/ratings?index=${index}&wait=300ms`);
  t.true(Date.now() - started >= 280, "held until the wait elapsed");
  t.is(timedOut.headers.get("x-consul-index"), String(index));

  const blocked = get(cp, `/v1/health/service/ratings?index=${index}&wait=10s`);
  await new Promise((r) => setTimeout(r, 100));
  const changeAt = Date.now();
  await syncEndpoints(cp.grpcAddress, { source: "daemon:n2", endpoints: [] });
  const answer = await blocked;
  t.true(Date.now() - changeAt < 5000, "woken by the change, long before the 10 s wait");
  t.is(answer.headers.get("x-consul-index"), String(index + 1));
  t.deepEqual(answer.body, []);
});
