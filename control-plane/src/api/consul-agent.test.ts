// The Consul agent API with the real npm `consul` client: register with HTTP, TCP and TTL checks run
// by the control plane, watch() seeing health changes within a second, deregistration, and the
// probes clients make (agent/self, status/leader, catalog/nodes). Daemon endpoints stay untouched.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import test from "ava";
import Consul from "consul";
import { syncEndpoints } from "../grpc-testing";
import { callApi, startTestControlPlane, type TestControlPlane } from "../test-support";

interface HealthEntry {
  Service: { ID: string; Tags: string[]; Port: number; Meta: Record<string, string> };
  Checks: Array<{ CheckID: string; Status: string; Output: string }>;
}

function consulFor(cp: TestControlPlane): Consul {
  const [host, port] = cp.httpAddress.split(":");
  return new Consul({ host, port: Number(port) });
}

/** An HTTP server whose answer the test flips between 200 and 500. */
async function flippingServer(t: {
  teardown(fn: () => void): void;
}): Promise<{ port: number; setStatus(s: number): void }> {
  let status = 200;
  const server: Server = createServer((_req, res) => {
    res.writeHead(status);
    res.end(status === 200 ? "ok" : "broken");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => server.close());
  return { port: (server.address() as AddressInfo).port, setStatus: (s) => (status = s) };
}

/** Resolves with the first value of `watch` (health.service) that satisfies `ok`, timing it. */
function nextChange(
  watch: ReturnType<Consul["watch"]>,
  ok: (entries: HealthEntry[]) => boolean,
): Promise<number> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("watch saw no matching change in 5 s")), 5000);
    const onChange = (data: HealthEntry[]) => {
      if (!ok(data)) return;
      clearTimeout(timer);
      watch.off("change", onChange);
      resolve(Date.now() - start);
    };
    watch.on("change", onChange);
  });
}

test("an HTTP-checked service registered with the consul client; watch() follows its health within a second", async (t) => {
  const cp = await startTestControlPlane(t);
  const consul = consulFor(cp);
  const app = await flippingServer(t);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [
      {
        id: "c1",
        service: "web",
        address: "10.88.0.2",
        ports: [{ port: 80, protocol: "http" }],
        healthy: true,
      },
    ],
  });

  const watch = consul.watch({
    method: consul.health.service,
    options: { service: "web", passing: "true" } as Record<string, string>,
  });
  t.teardown(() => watch.end());
  const firstPassing = nextChange(watch, (e) => e.some((x) => x.Service.ID === "web-1"));
  await consul.agent.service.register({
    name: "web",
    id: "web-1",
    address: "127.0.0.1",
    port: app.port,
    tags: ["primary"],
    meta: { version: "v3" },
    check: {
      name: "web health",
      http: `http://127.0.0.1:${app.port}/health`,
      interval: "200ms",
      timeout: "1s",
    },
  });
  t.true((await firstPassing) < 5000, "the new instance passes its first check and the watch sees it");

  const entries = (await consul.health.service("web")) as HealthEntry[];
  const mine = entries.find((e) => e.Service.ID === "web-1")!;
  t.deepEqual(mine.Service.Tags, ["primary"]);
  t.is(mine.Service.Meta.version, "v3");
  t.is(mine.Service.Port, app.port);
  t.like(
    mine.Checks.find((c) => c.CheckID === "service:web-1"),
    { Status: "passing" },
  );
  t.truthy(
    entries.find((e) => e.Service.ID === "c1"),
    "the daemon's endpoint is still there",
  );

  const gone = nextChange(watch, (e) => !e.some((x) => x.Service.ID === "web-1"));
  app.setStatus(500);
  t.true((await gone) < 5000, "a failing check drops the instance from ?passing promptly");
  const checks = (await consul.agent.check.list()) as Record<string, { Status: string; Output: string }>;
  t.is(checks["service:web-1"]!.Status, "critical");
  t.regex(checks["service:web-1"]!.Output, /500/);
  const rest = (await (
    await fetch(`http://${cp.httpAddress}/api/v1/services/web/endpoints`)
  ).json()) as Array<{ id: string; healthy: boolean; source: string }>;
  t.like(
    rest.find((e) => e.id === "web-1"),
    { healthy: false, source: "agent" },
  );
  t.like(
    rest.find((e) => e.id === "c1"),
    { healthy: true, source: "daemon:n1" },
  );

  const one = await fetch(`http://${cp.httpAddress}/v1/agent/service/web-1`);
  t.like(await one.json(), { ID: "web-1", Service: "web", Port: app.port, Tags: ["primary"] });
  await consul.agent.service.deregister("web-1");
  t.is((await fetch(`http://${cp.httpAddress}/v1/agent/service/web-1`)).status, 404);
  t.deepEqual(await consul.agent.service.list(), {});
  t.deepEqual(
    ((await consul.health.service("web")) as HealthEntry[]).map((e) => e.Service.ID),
    ["c1"],
  );
});

test("TTL checks follow pass/warn/fail and expire; TCP checks run against a port", async (t) => {
  const cp = await startTestControlPlane(t);
  const consul = consulFor(cp);
  const app = await flippingServer(t);
  await consul.agent.service.register({
    name: "worker",
    id: "worker-1",
    port: 9000,
    checks: [
      { name: "heartbeat", checkid: "worker-ttl", ttl: "1s", timeout: "1s" },
      { name: "port", tcp: `127.0.0.1:${app.port}`, interval: "200ms", timeout: "1s" },
    ],
  });
  const status = async () =>
    (await consul.agent.check.list()) as Record<string, { Status: string; Output: string }>;
  t.is((await status())["worker-ttl"]!.Status, "critical", "checks start critical, as in Consul");
  await consul.agent.check.pass({ id: "worker-ttl", note: "all good" });
  t.like((await status())["worker-ttl"], { Status: "passing", Output: "all good" });
  await new Promise((r) => setTimeout(r, 300));
  t.is((await status())["service:worker-1:2"]!.Status, "passing");
  const passing = (await consul.health.service({ service: "worker", passing: true })) as HealthEntry[];
  t.is(passing.length, 1);
  await consul.agent.check.warn("worker-ttl");
  t.is((await status())["worker-ttl"]!.Status, "warning");
  t.is(((await consul.health.service({ service: "worker", passing: true })) as HealthEntry[]).length, 0);
  await consul.agent.check.pass("worker-ttl");
  await new Promise((r) => setTimeout(r, 1300));
  t.like((await status())["worker-ttl"], { Status: "critical" });
  t.regex((await status())["worker-ttl"]!.Output, /TTL expired/);
  const unknown = await fetch(`http://${cp.httpAddress}/v1/agent/check/pass/nope`, { method: "PUT" });
  t.is(unknown.status, 404);
  t.regex(((await unknown.json()) as { error: string }).error, /Unknown check ID/);
});

test("a service critical longer than DeregisterCriticalServiceAfter is removed", async (t) => {
  const cp = await startTestControlPlane(t);
  const consul = consulFor(cp);
  await consul.agent.service.register({
    name: "flaky",
    check: { name: "ttl", ttl: "200ms", timeout: "1s", deregistercriticalserviceafter: "300ms" },
  });
  t.truthy(((await consul.agent.service.list()) as Record<string, unknown>).flaky);
  // Critical after 200 ms, reaped 300 ms later by a sweep each second: within 10 s on a loaded machine.
  const deadline = Date.now() + 10_000;
  while (Object.keys(await consul.agent.service.list()).length > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(await consul.agent.service.list(), {});
  t.deepEqual(await consul.catalog.service.nodes("flaky"), []);
});

test("agent/self, status/leader and catalog/nodes answer what clients probe", async (t) => {
  const cp = await startTestControlPlane(t);
  const consul = consulFor(cp);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [{ id: "c1", service: "web", address: "10.88.0.2", node: "n1", healthy: true }],
  });
  const self = (await consul.agent.self()) as {
    Config: { Datacenter: string; NodeName: string; Version: string };
  };
  t.is(self.Config.Datacenter, "dc1");
  t.truthy(self.Config.NodeName);
  t.is(await consul.status.leader(), cp.httpAddress);
  const nodes = (await consul.catalog.node.list()) as Array<{ Node: string }>;
  t.true(nodes.some((n) => n.Node === "n1"));
  t.true(nodes.some((n) => n.Node === self.Config.NodeName));
});

test("bad service definitions get 400 naming the field", async (t) => {
  const cp = await startTestControlPlane(t);
  const put = (body: string) =>
    fetch(`http://${cp.httpAddress}/v1/agent/service/register`, { method: "PUT", body });
  const cases: Array<[string, RegExp]> = [
    ["{", /not valid JSON/],
    ["[]", /must be an object/],
    ['{"Name": 5}', /Name must be a string/],
    ['{"Name": "a b"}', /not a valid service name/],
    ['{"Name": "x", "Port": "80"}', /Port must be an integer/],
    ['{"Name": "x", "Address": "db.local"}', /must be an IP address/],
    ['{"Name": "x", "Address": "0.0.0.0"}', /"0.0.0.0" is the unspecified address .*own address/],
    ['{"Name": "x", "Address": "239.1.2.3"}', /multicast, broadcast or reserved/],
    // The control plane's service range: the VIPs it hands out, which the sidecars intercept.
    ['{"Name": "x", "Address": "10.96.0.7"}', /Address 10.96.0.7 is in the service range 10.96.0.0\/16/],
    ['{"Name": "x", "Check": {"HTTP": "http://x/"}}', /Interval is required/],
    ['{"Name": "x", "Check": {"Script": "rm -rf /", "Interval": "1s"}}', /exactly one of/],
    ['{"Name": "x", "Check": {"TTL": "soon"}}', /TTL "soon" is not a duration/],
  ];
  for (const [body, reason] of cases) {
    const res = await put(body);
    t.is(res.status, 400, body);
    t.regex(((await res.json()) as { error: string }).error, reason, body);
  }
  const unknown = await fetch(`http://${cp.httpAddress}/v1/agent/service/deregister/nope`, { method: "PUT" });
  t.is(unknown.status, 404);
});

test("health by state, by service and by node, and a node's services, as the consul client reads them", async (t) => {
  const cp = await startTestControlPlane(t);
  const consul = consulFor(cp);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [
      { id: "c1", service: "web", address: "10.88.0.2", node: "n1", healthy: true, ports: [{ port: 80 }] },
      { id: "c2", service: "web", address: "10.88.0.3", node: "n1", healthy: false, ports: [{ port: 80 }] },
      { id: "c3", service: "db", address: "10.88.0.4", node: "n2", healthy: true, ports: [{ port: 5432 }] },
    ],
  });
  await consul.agent.service.register({
    name: "worker",
    id: "worker-1",
    port: 9000,
    check: { name: "heartbeat", checkid: "worker-ttl", ttl: "30s", timeout: "1s" },
  });
  await consul.agent.check.warn({ id: "worker-ttl", note: "slow" });

  type Check = { Node: string; CheckID: string; Status: string; ServiceID: string; Output: string };
  const critical = (await consul.health.state("critical")) as Check[];
  t.deepEqual(
    critical.map((c) => [c.Node, c.CheckID, c.ServiceID]),
    [["n1", "service:c2", "c2"]],
    "what alerting polls: the one failing instance",
  );
  const warning = (await consul.health.state("warning")) as Check[];
  t.deepEqual(
    warning.map((c) => [c.CheckID, c.Output]),
    [["worker-ttl", "slow"]],
  );
  const any = (await consul.health.state("any")) as Check[];
  t.is(
    any.filter((c) => c.CheckID === "serfHealth").length,
    3,
    "one serfHealth per node (n1, n2, the agent's)",
  );
  t.is(any.length, 3 + 4);

  t.deepEqual(
    ((await consul.health.checks("web")) as Check[]).map((c) => [c.ServiceID, c.Status]),
    [
      ["c1", "passing"],
      ["c2", "critical"],
    ],
  );
  t.deepEqual(await consul.health.checks("nope"), []);
  t.deepEqual(
    ((await consul.health.node("n2")) as Check[]).map((c) => c.CheckID),
    ["serfHealth", "service:c3"],
  );
  t.deepEqual(await consul.health.node("nowhere"), []);

  const n1 = (await consul.catalog.node.services("n1")) as {
    Node: { Node: string; Address: string };
    Services: Record<string, { Service: string; Port: number; Address: string }>;
  };
  t.is(n1.Node.Node, "n1");
  t.deepEqual(Object.keys(n1.Services).sort(), ["c1", "c2"]);
  t.like(n1.Services.c1, { Service: "web", Port: 80, Address: "10.88.0.2" });
  const nowhere = await fetch(`http://${cp.httpAddress}/v1/catalog/node/nowhere`);
  t.is(nowhere.status, 200);
  t.is((await nowhere.text()).trim(), "null", "Consul answers null for an unknown node");
  const list = (await (await fetch(`http://${cp.httpAddress}/v1/catalog/node-services/n2`)).json()) as {
    Services: Array<{ ID: string }>;
  };
  t.deepEqual(
    list.Services.map((s) => s.ID),
    ["c3"],
  );
  t.deepEqual(await consul.catalog.datacenters(), ["dc1"]);

  const bad = await fetch(`http://${cp.httpAddress}/v1/health/state/broken`);
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { error: string }).error, /Invalid check state "broken"; use any, passing/);
});

test("agent health by service name and ID answers 200, 429 or 503 as load balancers read it; members lists the nodes", async (t) => {
  const cp = await startTestControlPlane(t);
  const consul = consulFor(cp);
  for (const id of ["api-1", "api-2"]) {
    await consul.agent.service.register({
      name: "api",
      id,
      port: 9000,
      check: { name: "ttl", checkid: `${id}-ttl`, ttl: "30s", timeout: "1s" },
    });
    await consul.agent.check.pass(`${id}-ttl`);
  }
  const get = async (path: string) => {
    const res = await fetch(`http://${cp.httpAddress}/v1/agent/health/service/${path}`);
    return { status: res.status, body: (await res.json()) as unknown };
  };
  type Health = { AggregatedStatus: string; Service: { ID: string }; Checks: Array<{ CheckID: string }> };
  const all = await get("name/api");
  t.is(all.status, 200);
  t.deepEqual(
    (all.body as Health[]).map((h) => [h.Service.ID, h.AggregatedStatus, h.Checks.map((c) => c.CheckID)]),
    [
      ["api-1", "passing", ["api-1-ttl"]],
      ["api-2", "passing", ["api-2-ttl"]],
    ],
  );
  await consul.agent.check.warn("api-2-ttl");
  t.is((await get("name/api")).status, 429, "a warning anywhere: 429");
  await consul.agent.check.fail("api-1-ttl");
  t.is((await get("name/api")).status, 503, "a critical check anywhere: 503");
  const one = await get("id/api-2");
  t.is(one.status, 429);
  t.like(one.body, { AggregatedStatus: "warning", Service: { ID: "api-2" } });
  // ?format=text: the bare status word, with the same HTTP status (scripts and haproxy checks read it).
  for (const [path, status, text] of [
    ["name/api", 503, "critical"],
    ["id/api-2", 429, "warning"],
  ] as const) {
    const res = await fetch(`http://${cp.httpAddress}/v1/agent/health/service/${path}?format=text`);
    t.is(res.status, status);
    t.is(res.headers.get("content-type"), "text/plain; charset=utf-8");
    t.is(await res.text(), text);
  }
  t.is((await get("id/nope")).status, 404);
  t.is((await get("name/nope")).status, 404);

  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [{ id: "c1", service: "web", address: "10.88.0.2", node: "n1", healthy: true }],
  });
  const self = (await consul.agent.self()) as { Config: { NodeName: string } };
  const members = (await consul.agent.members()) as Array<{
    Name: string;
    Addr: string;
    Status: number;
    Tags: { role: string };
  }>;
  t.deepEqual(
    members.map((m) => [m.Name, m.Tags.role, m.Status]).sort(),
    [
      ["n1", "node", 1],
      [self.Config.NodeName, "consul", 1],
    ].sort(),
  );
  t.is(members.find((m) => m.Name === "n1")?.Addr, "10.88.0.2");
});

test("?filter= selects what Consul's filter expression selects, on lists and the agent's maps; a bad one is a 400", async (t) => {
  const cp = await startTestControlPlane(t);
  const consul = consulFor(cp);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [
      {
        id: "c1",
        service: "web",
        address: "10.88.0.2",
        node: "n1",
        healthy: true,
        labels: { version: "v1" },
      },
      {
        id: "c2",
        service: "web",
        address: "10.88.0.3",
        node: "n1",
        healthy: true,
        labels: { version: "v2" },
      },
    ],
  });
  const v2 = (await consul.health.service({
    service: "web",
    filter: 'Service.Meta.version == "v2"',
  } as never)) as HealthEntry[];
  t.deepEqual(
    v2.map((e) => e.Service.ID),
    ["c2"],
  );
  const catalog = (await consul.catalog.service.nodes({
    service: "web",
    filter: 'ServiceMeta.version != "v2" and ServiceAddress matches "^10\\\\.88\\\\."',
  } as never)) as Array<{ ServiceID: string }>;
  t.deepEqual(
    catalog.map((e) => e.ServiceID),
    ["c1"],
  );
  await consul.agent.service.register({ name: "api", id: "api-1", port: 1, tags: ["blue"] });
  await consul.agent.service.register({ name: "api", id: "api-2", port: 2, tags: ["green"] });
  const blue = (await consul.agent.service.list({ filter: '"blue" in Tags' } as never)) as Record<
    string,
    unknown
  >;
  t.deepEqual(Object.keys(blue), ["api-1"]);

  const bad = await fetch(
    `http://${cp.httpAddress}/v1/health/service/web?filter=${encodeURIComponent("Service.Meta.version = v2")}`,
  );
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { error: string }).error, /boolean expression.*use == or !=/);
});

test("repeated ?tag= wants every tag, and ?node-meta= selects by node metadata, as Consul's", async (t) => {
  const cp = await startTestControlPlane(t);
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [{ id: "c1", service: "api", address: "10.88.0.2", node: "n1", healthy: true }],
  });
  const consul = consulFor(cp);
  await consul.agent.service.register({ name: "api", id: "api-1", port: 1, tags: ["blue", "east"] });
  await consul.agent.service.register({ name: "api", id: "api-2", port: 2, tags: ["blue"] });
  const ids = async (path: string) =>
    (
      (await (await fetch(`http://${cp.httpAddress}${path}`)).json()) as Array<{
        ServiceID?: string;
        Service?: { ID: string };
      }>
    )
      .map((e) => e.ServiceID ?? e.Service?.ID)
      .sort();
  t.deepEqual(await ids("/v1/catalog/service/api?tag=blue"), ["api-1", "api-2"]);
  t.deepEqual(await ids("/v1/catalog/service/api?tag=blue&tag=east"), ["api-1"]);
  t.deepEqual(await ids("/v1/health/service/api?tag=blue&tag=east"), ["api-1"]);
  t.deepEqual(await ids("/v1/catalog/service/api?node-meta=weft-source:daemon:n1"), ["c1"]);
  t.deepEqual(await ids("/v1/health/service/api?node-meta=weft-source:agent"), ["api-1", "api-2"]);
  t.deepEqual(await ids("/v1/catalog/service/api?node-meta=rack:a"), [], "no node has that metadata");
});

/** A Consul blocking GET (?index=&wait=): how long it was held, the X-Consul-Index and the body. */
async function blockingGet(
  cp: TestControlPlane,
  path: string,
  index: number,
  wait: string,
): Promise<{ ms: number; index: number; body: unknown }> {
  const start = Date.now();
  const sep = path.includes("?") ? "&" : "?";
  const res = await fetch(`http://${cp.httpAddress}${path}${sep}index=${index}&wait=${wait}`);
  return {
    ms: Date.now() - start,
    index: Number(res.headers.get("X-Consul-Index")),
    body: await res.json(),
  };
}

test("blocking queries wake for a change of tags or of a check status that leaves health as it was, and only for a change", async (t) => {
  const cp = await startTestControlPlane(t);
  const consul = consulFor(cp);
  const register = (tags: string[]) =>
    consul.agent.service.register({
      name: "blockwatch",
      id: "blockwatch-1",
      port: 7001,
      tags,
      check: { name: "blockwatch ttl", checkid: "blockwatch-ttl", ttl: "60s", timeout: "1s" },
    });
  await register(["w"]);
  const first = await blockingGet(cp, "/v1/catalog/service/blockwatch", 0, "1s");
  const entries = first.body as Array<{ ServiceTags: string[]; ModifyIndex: number }>;

  // A new tag, nothing else: consul-template's watch of the service (and of the service list) wakes.
  const [tagged, listed] = await Promise.all([
    blockingGet(cp, "/v1/catalog/service/blockwatch", first.index, "5s"),
    blockingGet(cp, "/v1/catalog/services", first.index, "5s"),
    new Promise((r) => setTimeout(r, 200)).then(() => register(["w", "x"])),
  ]);
  t.true(tagged.ms < 3000, `held ${tagged.ms} ms`);
  t.true(tagged.index > first.index);
  const [entry] = tagged.body as Array<{ ServiceTags: string[]; ModifyIndex: number }>;
  t.deepEqual(entry!.ServiceTags, ["w", "x"]);
  t.true(entry!.ModifyIndex > entries[0]!.ModifyIndex, "the instance's ModifyIndex moves too");
  t.true(listed.ms < 3000 && listed.index > first.index);
  t.deepEqual((listed.body as Record<string, string[]>).blockwatch, ["w", "x"]);

  // Registering the same definition again changes nothing: the watch is held for its whole wait.
  const same = await Promise.all([
    blockingGet(cp, "/v1/catalog/service/blockwatch", tagged.index, "1s"),
    register(["w", "x"]),
  ]);
  t.true(same[0].ms >= 900, `held ${same[0].ms} ms`);
  t.is(same[0].index, tagged.index);

  // warning -> critical: unhealthy before and after, yet the check's status shown changed.
  await consul.agent.check.warn("blockwatch-ttl");
  const warned = await blockingGet(cp, "/v1/health/service/blockwatch", 0, "1s");
  const [failed, critical] = await Promise.all([
    blockingGet(cp, "/v1/health/service/blockwatch", warned.index, "5s"),
    blockingGet(cp, "/v1/health/state/critical", warned.index, "5s"),
    new Promise((r) => setTimeout(r, 200)).then(() => consul.agent.check.fail("blockwatch-ttl")),
  ]);
  t.true(failed.ms < 3000, `held ${failed.ms} ms`);
  t.true(failed.index > warned.index);
  const checks = (failed.body as HealthEntry[])[0]!.Checks;
  t.is(checks.find((c) => c.CheckID === "blockwatch-ttl")?.Status, "critical");
  t.true(critical.ms < 3000 && critical.index > warned.index);

  // The same status again is no change.
  const again = await Promise.all([
    blockingGet(cp, "/v1/health/service/blockwatch", failed.index, "1s"),
    consul.agent.check.fail("blockwatch-ttl"),
  ]);
  t.true(again[0].ms >= 900, `held ${again[0].ms} ms`);
  t.is(again[0].index, failed.index);
});

test("TaggedAddresses are {Address, Port} objects as the Go client decodes them, kept as registered with the agent's defaults; Weights and EnableTagOverride are kept", async (t) => {
  const cp = await startTestControlPlane(t);
  const res = await callApi(cp, "PUT", "/v1/agent/service/register", {
    Name: "tagaddr",
    ID: "tagaddr-1",
    Address: "192.0.2.70",
    Port: 8000,
    TaggedAddresses: {
      lan: { address: "192.0.2.70", port: 8000 },
      wan: { Address: "198.51.100.1", Port: 80 },
    },
    Weights: { Passing: 10, Warning: 1 },
    EnableTagOverride: true,
  });
  t.is(res.status, 200, JSON.stringify(res.body));
  const tagged = {
    lan: { Address: "192.0.2.70", Port: 8000 },
    lan_ipv4: { Address: "192.0.2.70", Port: 8000 },
    wan: { Address: "198.51.100.1", Port: 80 },
    wan_ipv4: { Address: "192.0.2.70", Port: 8000 },
  };
  const wanted = { TaggedAddresses: tagged, Weights: { Passing: 10, Warning: 1 }, EnableTagOverride: true };
  t.like((await callApi(cp, "GET", "/v1/agent/service/tagaddr-1")).body, wanted);
  t.like((await callApi(cp, "GET", "/v1/agent/services")).body["tagaddr-1"], wanted);
  t.like((await callApi(cp, "GET", "/v1/health/service/tagaddr")).body[0].Service, wanted);
  const [entry] = (await callApi(cp, "GET", "/v1/catalog/service/tagaddr")).body;
  t.like(entry, {
    ServiceTaggedAddresses: tagged,
    ServiceWeights: { Passing: 10, Warning: 1 },
    ServiceEnableTagOverride: true,
  });
  t.is(typeof entry.TaggedAddresses.lan, "string", "a node's tagged addresses stay strings, as Consul's");

  // Without them: Consul's defaults, and no tagged address but the agent's lan/wan_ipv4.
  await callApi(cp, "PUT", "/v1/agent/service/register", {
    Name: "tagaddr",
    ID: "tagaddr-2",
    Address: "192.0.2.71",
    Port: 1,
  });
  t.like((await callApi(cp, "GET", "/v1/agent/service/tagaddr-2")).body, {
    TaggedAddresses: {
      lan_ipv4: { Address: "192.0.2.71", Port: 1 },
      wan_ipv4: { Address: "192.0.2.71", Port: 1 },
    },
    Weights: { Passing: 1, Warning: 1 },
    EnableTagOverride: false,
  });

  for (const [body, reason] of [
    [
      { TaggedAddresses: { lan_ipv4: { Address: "fd00::1" } } },
      /lan_ipv4.Address "fd00::1" must be a valid ipv4/,
    ],
    [{ TaggedAddresses: { lan: "192.0.2.1" } }, /TaggedAddresses.lan must be an object/],
    [{ Weights: { Passing: 0, Warning: 1 } }, /Weights.Passing must be an integer from 1/],
    [{ EnableTagOverride: "yes" }, /EnableTagOverride must be true or false/],
  ] as const) {
    const bad = await callApi(cp, "PUT", "/v1/agent/service/register", { Name: "tagaddr-bad", ...body });
    t.is(bad.status, 400, JSON.stringify(body));
    t.regex(bad.body.error, reason);
  }
});

test("?filter= applies to /v1/catalog/services by instance and to a node's Services, and a selector naming no field is a 400", async (t) => {
  const cp = await startTestControlPlane(t);
  const put = async (path: string, body: unknown) => t.is((await callApi(cp, "PUT", path, body)).status, 200);
  await put("/v1/agent/service/register", {
    Name: "fltweb",
    ID: "fltweb-1",
    Address: "192.0.2.90",
    Port: 1,
    Tags: ["blue"],
    Meta: { tier: "web" },
  });
  await put("/v1/agent/service/register", { Name: "fltapi", ID: "fltapi-1", Port: 2, Tags: ["green"] });
  for (const [id, tag] of [
    ["fltdb-1", "primary"],
    ["fltdb-2", "replica"],
  ])
    await put("/v1/catalog/register", {
      Node: "flt-node",
      Address: "192.0.2.91",
      NodeMeta: { rack: "r9" },
      Service: { ID: id, Service: "fltdb", Tags: [tag], Port: 5432 },
    });
  const get = async (path: string, filter: string) =>
    callApi(cp, "GET", `${path}?filter=${encodeURIComponent(filter)}`);
  const services = async (filter: string) => (await get("/v1/catalog/services", filter)).body;

  // Consul filters the instances (as /v1/catalog/service/NAME shows them), then groups them.
  t.deepEqual(await services('ServiceName == "fltweb"'), { fltweb: ["blue"] });
  t.deepEqual(await services('"primary" in ServiceTags'), { fltdb: ["primary"] });
  t.deepEqual(await services('NodeMeta.rack == "r9"'), { fltdb: ["primary", "replica"] });
  t.deepEqual(await services('ServiceMeta["tier"] == "web" or ServiceTags contains "green"'), {
    fltapi: ["green"],
    fltweb: ["blue"],
  });
  t.deepEqual(await services("ServiceTaggedAddresses.lan_ipv4.Port == 1"), { fltweb: ["blue"] });
  t.deepEqual(await services('ServiceName == "none"'), {});

  // /v1/catalog/node/NODE and node-services: the filter selects among the node's Services.
  const node = (await get("/v1/catalog/node/flt-node", 'Tags contains "primary"')).body;
  t.is(node.Node.Node, "flt-node");
  t.deepEqual(Object.keys(node.Services), ["fltdb-1"]);
  const list = (await get("/v1/catalog/node-services/flt-node", 'ID == "fltdb-2"')).body;
  t.deepEqual(
    list.Services.map((s: { ID: string }) => s.ID),
    ["fltdb-2"],
  );

  // A selector the items do not have is Consul's 400, not an empty answer.
  for (const [path, filter] of [
    ["/v1/catalog/service/fltweb", 'Bogus == "x"'],
    ["/v1/catalog/services", 'Bogus == "x"'],
    ["/v1/health/service/fltweb", 'Service.Bogus == "x"'],
    ["/v1/health/state/any", 'ServiceName == "x" or Bogus.Deep is empty'],
    ["/v1/agent/services", '"x" in Bogus'],
    ["/v1/catalog/node/flt-node", 'Service.Tags contains "x"'],
    ["/v1/catalog/nodes", 'Meta.rack.deeper == "r9"'],
  ]) {
    const res = await get(path!, filter!);
    t.is(res.status, 400, `${path} ${filter}`);
    t.regex(
      res.body.error,
      /Failed to create boolean expression evaluator: Selector "[A-Za-z.]+" is not valid/,
    );
  }
});
