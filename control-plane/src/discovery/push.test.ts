// On-demand subscriptions, incremental pushes, snapshots, make-before-break, backpressure and
// proxy status, over real gRPC streams against a real control plane on OS-picked ports.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { TYPE_ENDPOINTS, TYPE_POLICY, TYPE_ROUTES, TYPE_SERVICE, TYPE_TELEMETRY } from "../../../proto/index";
import type { EndpointInput } from "../registry/types";
import { startControlPlane } from "../server";
import { startTestControlPlane } from "../test-support";
import { MemoryConfigSource } from "./config-source";
import type { ProxyStatus } from "./proxy-status";
import { openRawStream } from "./testing-stream";

async function start(t: ExecutionContext, debounceMs = 20) {
  const dir = mkdtempSync(join(tmpdir(), "weft-push-"));
  const config = new MemoryConfigSource();
  const logs: string[] = [];
  const cp = await startControlPlane({
    dataDir: join(dir, "data"),
    grpcPort: 0,
    httpPort: 0,
    grpcSocket: "",
    debounceMs,
    config,
    log: (m) => logs.push(m),
  });
  t.teardown(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const set = (service: string, addresses: string[], source = `daemon:${service}`) =>
    cp.registry.syncEndpoints(
      source,
      addresses.map((address, i) => endpoint(service, address, i)),
      [],
    );
  const open = (id: string, read = true) => {
    const s = openRawStream(cp.grpcAddress, { id, workload: id, service: "client" }, { read });
    t.teardown(() => s.close());
    return s;
  };
  const proxies = async () =>
    (await (await fetch(`http://${cp.httpAddress}/api/v1/proxies`)).json()) as ProxyStatus[];
  return { cp, config, logs, set, open, proxies };
}

function endpoint(service: string, address: string, i: number, labels = { version: "v1" }): EndpointInput {
  return {
    id: `${service}-${i}`,
    service,
    address,
    ports: [{ name: "http", port: 8080, protocol: "http" }],
    labels,
    workload: `${service}-${i}`,
    node: "n1",
    healthy: true,
  };
}

const addresses = (r: {
  resources: Array<{ endpoints?: { endpoints: Array<{ address: string }> } | null }>;
}) => r.resources.map((x) => x.endpoints?.endpoints.map((e) => e.address));

test("a stream subscribed to one service gets only it, and only its changes, as incremental updates", async (t) => {
  const { set, open } = await start(t);
  set("reviews", ["10.88.0.2"]);
  set("ratings", ["10.88.0.3"]);
  const s = open("productpage");
  s.subscribe(TYPE_ENDPOINTS, ["reviews"]);
  const first = await s.waitFor((r) => r.type_url === TYPE_ENDPOINTS);
  t.deepEqual(
    first.resources.map((r) => r.name),
    ["reviews"],
  );
  t.false(first.incremental, "the first answer is the state of the world");
  s.ack(first, ["reviews"]);

  set("ratings", ["10.88.0.9"]);
  await new Promise((r) => setTimeout(r, 300));
  t.is(s.responses.length, 1, "a change to ratings is not sent to a reviews-only stream");

  set("reviews", ["10.88.0.2", "10.88.0.4"]);
  const update = await s.waitFor((r) => r.type_url === TYPE_ENDPOINTS, 1);
  t.true(update.incremental);
  t.deepEqual(
    update.resources.map((r) => r.name),
    ["reviews"],
  );
  t.deepEqual(addresses(update), [["10.88.0.2", "10.88.0.4"]]);
  t.not(update.nonce, first.nonce);

  // Adding a name sends just that resource; dropping one removes it.
  s.ack(update, ["reviews", "ratings"]);
  const added = await s.waitFor((r) => r.type_url === TYPE_ENDPOINTS, 2);
  t.true(added.incremental);
  t.deepEqual(addresses(added), [["10.88.0.9"]]);
  s.ack(added, ["ratings"]);
  const dropped = await s.waitFor((r) => r.type_url === TYPE_ENDPOINTS, 3);
  t.deepEqual(dropped.resources, []);
  t.deepEqual(dropped.removed_resources, ["reviews"]);
});

test("wildcard Service subscribers get every service; endpoint changes do not touch them", async (t) => {
  const { set, open } = await start(t);
  set("reviews", ["10.88.0.2"]);
  set("ratings", ["10.88.0.3"]);
  const s = open("pp");
  s.subscribe(TYPE_SERVICE);
  const all = await s.waitFor((r) => r.type_url === TYPE_SERVICE);
  t.deepEqual(
    all.resources.map((r) => r.name),
    ["ratings", "reviews"],
  );
  s.ack(all);
  set("reviews", ["10.88.0.2", "10.88.0.5"]);
  await new Promise((r) => setTimeout(r, 200));
  t.is(s.responses.length, 1, "endpoint changes do not touch the Service resource");
});

test("a reconnecting stream gets a consistent snapshot of everything it subscribes to", async (t) => {
  const { cp, set, open } = await start(t);
  set("reviews", ["10.88.0.2"]);
  set("ratings", ["10.88.0.3"]);
  const s1 = open("pp");
  s1.subscribe(TYPE_ENDPOINTS, ["reviews", "ratings"]);
  s1.ack(await s1.waitFor(() => true), ["reviews", "ratings"]);
  s1.close();
  set("reviews", ["10.88.0.7"]);
  const s2 = open("pp");
  s2.send({
    type_url: TYPE_ENDPOINTS,
    version_info: "1",
    response_nonce: "",
    resource_names: ["reviews", "ratings"],
  });
  const snap = await s2.waitFor(() => true);
  t.false(snap.incremental);
  t.deepEqual(
    snap.resources.map((r) => r.name),
    ["ratings", "reviews"],
  );
  t.deepEqual(addresses(snap), [["10.88.0.3"], ["10.88.0.7"]]);
  t.is(snap.version_info, String(cp.registry.index()), "one registry index for the whole snapshot");
});

test("routes never arrive before the endpoints of their service; in one cycle endpoints go first", async (t) => {
  const { set, open, config } = await start(t);
  set("reviews", ["10.88.0.2"]);
  config.put("Route", "reviews-split", {
    service: "reviews",
    rules: [{ split: [{ labels: { version: "v2" }, weight: 100 }], timeoutMs: 500 }],
  });
  const s = open("pp");
  s.subscribe(TYPE_ROUTES, ["reviews"]);
  const noRoutes = await s.waitFor((r) => r.type_url === TYPE_ROUTES);
  t.deepEqual(noRoutes.resources, [], "no endpoints sent yet, so the route is held back");
  s.ack(noRoutes, ["reviews"]);
  s.subscribe(TYPE_ENDPOINTS, ["reviews"]);
  const routes = await s.waitFor((r) => r.type_url === TYPE_ROUTES && r.resources.length > 0);
  const order = s.responses.map((r) => r.type_url);
  t.true(order.indexOf(TYPE_ENDPOINTS) < order.lastIndexOf(TYPE_ROUTES));
  const spec = routes.resources[0]?.routes?.routes[0]?.spec;
  t.is(spec?.rules[0]?.timeout_ms, 500, "camelCase config becomes the proto's snake_case");
  t.deepEqual(spec?.rules[0]?.split[0]?.labels, { version: "v2" });

  // A new subset and a route to it change together: the endpoints are written first.
  const before = s.responses.length;
  set("reviews", ["10.88.0.2", "10.88.0.3"]);
  config.put("Route", "reviews-split", {
    service: "reviews",
    rules: [{ split: [{ labels: { version: "v3" }, weight: 100 }] }],
  });
  await s.waitFor((r) => r.type_url === TYPE_ROUTES, before);
  const cycle = s.responses.slice(before).map((r) => r.type_url);
  t.deepEqual(cycle, [TYPE_ENDPOINTS, TYPE_ROUTES]);
});

test("telemetry is wildcard and a burst of config changes is merged into one push", async (t) => {
  const { open, config } = await start(t, 50);
  const s = open("pp");
  s.subscribe(TYPE_TELEMETRY);
  s.ack(await s.waitFor(() => true));
  for (let i = 1; i <= 5; i++) {
    config.put("Telemetry", "default", { tracing: { enabled: true, samplingRatio: i / 10 } });
  }
  const pushed = await s.waitFor((r) => r.type_url === TYPE_TELEMETRY, 1);
  t.is(pushed.resources[0]?.telemetry?.spec?.tracing?.sampling_ratio, 0.5);
  await new Promise((r) => setTimeout(r, 300));
  t.is(s.responses.length, 2, "one push for the whole burst");
});

test("a stuck sidecar (stopped process) does not delay a healthy one, and shows as STALE", async (t) => {
  const { cp, set, open, proxies } = await start(t, 5);
  // Big resources fill the stuck stream's HTTP/2 window quickly.
  const many = (n: number) => Array.from({ length: 300 }, (_, i) => `10.${n % 200}.${i >> 8}.${i & 255}`);
  set("reviews", many(0));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "testing-stuck-sidecar.ts"), cp.grpcAddress, "reviews"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  t.teardown(() => {
    child.kill("SIGKILL");
  });
  await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
  child.kill("SIGSTOP");
  const healthy = open("healthy");
  healthy.subscribe(TYPE_ENDPOINTS, ["reviews"]);
  healthy.ack(await healthy.waitFor(() => true), ["reviews"]);
  const delays: number[] = [];
  for (let n = 1; n <= 60; n++) {
    const started = Date.now();
    set("reviews", many(n));
    const got = await healthy.waitFor(
      (r) => r.resources[0]?.endpoints?.endpoints[0]?.address === `10.${n}.0.0`,
      0,
    );
    delays.push(Date.now() - started);
    healthy.ack(got, ["reviews"]);
  }
  const max = Math.max(...delays);
  // A stream blocked behind the stuck one would wait forever; the bound only has to be generous.
  t.true(max < 3000, `every change reached the healthy stream promptly (max ${max} ms)`);
  const list = await proxies();
  const stuck = list.find((p) => p.nodeId === "stuck")!;
  t.true(stuck.blocked, "the stuck stream's buffer is full: later updates wait, merged");
  t.is(stuck.types[TYPE_ENDPOINTS]?.status, "STALE");
  t.is(list.find((p) => p.nodeId === "healthy")!.types[TYPE_ENDPOINTS]?.status, "SYNCED");
  // Once it reads again, it gets the latest state in one merged update and ACKs it.
  child.kill("SIGCONT");
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const s = (await proxies()).find((p) => p.nodeId === "stuck")?.types[TYPE_ENDPOINTS];
    if (s?.status === "SYNCED") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const after = (await proxies()).find((p) => p.nodeId === "stuck")!;
  t.is(after.types[TYPE_ENDPOINTS]?.status, "SYNCED");
  t.is(after.types[TYPE_ENDPOINTS]?.ackedVersion, String(cp.registry.index()));
});

test("proxy status shows SYNCED, SENT, and REJECTED with the reason", async (t) => {
  const { set, open, proxies, logs } = await start(t);
  set("reviews", ["10.88.0.2"]);
  const good = open("good");
  good.subscribe(TYPE_SERVICE);
  good.ack(await good.waitFor(() => true));
  const bad = open("bad");
  bad.subscribe(TYPE_SERVICE);
  bad.subscribe(TYPE_ENDPOINTS, ["nothing-here"]);
  const r = await bad.waitFor((x) => x.type_url === TYPE_SERVICE);
  bad.nack(r, "", "services[0].virtual_ip is not routable");
  const silent = open("silent");
  silent.subscribe(TYPE_SERVICE);
  await silent.waitFor(() => true);
  await new Promise((r) => setTimeout(r, 100));
  const list = await proxies();
  const byId = Object.fromEntries(list.map((p) => [p.nodeId, p]));
  t.is(byId.good?.types[TYPE_SERVICE]?.status, "SYNCED");
  t.is(byId.bad?.types[TYPE_SERVICE]?.status, "REJECTED");
  t.is(byId.bad?.types[TYPE_SERVICE]?.reason, "services[0].virtual_ip is not routable");
  t.is(byId.silent?.types[TYPE_SERVICE]?.status, "SENT");
  t.deepEqual(byId.bad?.types[TYPE_ENDPOINTS]?.subscribed, ["nothing-here"]);
  t.true(logs.some((l) => l.includes("NACK") && l.includes('"bad"')));
});

test("config applied through the REST API reaches subscribed streams; a delete is sent as removed", async (t) => {
  const cp = await startTestControlPlane(t);
  const apply = (docs: unknown[]) =>
    fetch(`http://${cp.httpAddress}/api/v1/config/apply`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(docs),
    });
  const doc = (kind: string, name: string, spec: unknown) => ({
    apiVersion: "weft.dev/v1",
    kind,
    metadata: { name },
    spec,
  });
  const applied = await apply([
    doc("Service", "reviews", { ports: [{ name: "http", port: 9080, protocol: "http" }] }),
    doc("Route", "reviews-canary", {
      service: "reviews",
      rules: [
        {
          split: [
            { labels: { version: "v1" }, weight: 90 },
            { labels: { version: "v2" }, weight: 10 },
          ],
          timeoutMs: 2000,
        },
      ],
    }),
    doc("ResiliencePolicy", "reviews-cb", { service: "reviews", outlierDetection: { consecutive5xx: 5 } }),
    doc("Telemetry", "default", { tracing: { enabled: true, samplingRatio: 0.1 } }),
  ]);
  t.is(applied.status, 200, await applied.clone().text());
  const s = openRawStream(cp.grpcAddress, { id: "pp" });
  t.teardown(() => s.close());
  for (const type of [TYPE_ENDPOINTS, TYPE_POLICY, TYPE_ROUTES]) s.subscribe(type, ["reviews"]);
  s.subscribe(TYPE_TELEMETRY);
  const routes = await s.waitFor((r) => r.type_url === TYPE_ROUTES);
  const spec = routes.resources[0]?.routes?.routes[0]?.spec;
  t.deepEqual(
    spec?.rules[0]?.split.map((x) => [x.labels.version, x.weight]),
    [
      ["v1", 90],
      ["v2", 10],
    ],
  );
  t.is(spec?.rules[0]?.timeout_ms, 2000);
  const policy = await s.waitFor((r) => r.type_url === TYPE_POLICY);
  t.is(policy.resources[0]?.policy?.spec?.outlier_detection?.consecutive_5xx, 5);
  const telemetry = await s.waitFor((r) => r.type_url === TYPE_TELEMETRY);
  t.is(telemetry.resources[0]?.name, "default");
  t.is(telemetry.resources[0]?.telemetry?.spec?.tracing?.sampling_ratio, 0.1);
  s.ack(routes, ["reviews"]);

  const from = s.responses.length;
  const deleted = await fetch(`http://${cp.httpAddress}/api/v1/config/routes/reviews-canary`, {
    method: "DELETE",
  });
  t.is(deleted.status, 200);
  const gone = await s.waitFor((r) => r.type_url === TYPE_ROUTES, from);
  t.true(gone.incremental);
  t.deepEqual(gone.removed_resources, ["reviews"]);
});
