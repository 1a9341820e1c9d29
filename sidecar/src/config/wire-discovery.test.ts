import test from "ava";
import { startFakeControlPlane } from "../testing/wire-fake-control-plane";
import { ConfigStore } from "./store";
import { DiscoveryClient } from "./wire-discovery";

const node = { id: "n1", workload: "shop", service: "shop", address: "10.88.0.2", labels: { v: "1" } };
const web = { name: "web", virtual_ip: "10.96.0.10", ports: [{ name: "http", port: 80, protocol: "http" }] };
const webEndpoint = { id: "c1", service: "web", address: "10.88.0.5", ports: [], healthy: true };
const SERVICE = "weft.v1.Service";
const ENDPOINTS = "weft.v1.ServiceEndpoints";
const ROUTES = "weft.v1.ServiceRoutes";
const POLICY = "weft.v1.ServicePolicy";
const TELEMETRY = "weft.v1.Telemetry";

async function setup(t: import("ava").ExecutionContext) {
  const cp = await startFakeControlPlane();
  const store = new ConfigStore();
  const logs: string[] = [];
  const client = new DiscoveryClient({
    target: cp.target,
    node,
    store,
    initialBackoffMs: 50,
    log: (m) => logs.push(m),
  });
  t.teardown(async () => {
    client.stop();
    await cp.close();
  });
  return { cp, store, client, logs };
}

test("subscribes to services and telemetry whole and to its own service by name, then ACKs", async (t) => {
  const { cp, store, client } = await setup(t);
  client.start();
  const first = await cp.waitFor((r) => r.type_url === SERVICE);
  t.is(first.node?.id, "n1");
  t.is(first.node?.labels.v, "1");
  t.deepEqual(first.resource_names, []);
  t.deepEqual((await cp.waitFor((r) => r.type_url === TELEMETRY)).resource_names, []);
  for (const type of [ENDPOINTS, ROUTES, POLICY]) {
    t.deepEqual((await cp.waitFor((r) => r.type_url === type)).resource_names, ["shop"], type);
  }
  const nonce = cp.pushServices([web], "v1");
  const ack = await cp.waitFor((r) => r.response_nonce === nonce);
  t.is(ack.version_info, "v1");
  t.is(ack.error_detail, null);
  t.is(store.serviceAt("10.96.0.10", 80)?.service.name, "web");
  t.true(store.ready, "ready with the first accepted Service response");
  const n2 = cp.pushEndpoints({ web: [webEndpoint] }, "e1");
  const endpointsAck = await cp.waitFor((r) => r.response_nonce === n2 && r.version_info === "e1");
  t.deepEqual(endpointsAck.resource_names, ["shop"], "an ACK repeats the subscribed names");
  t.is(store.healthyEndpoints("web")[0]?.address, "10.88.0.5");
});

test("NACKs a bad response with the reason and the last good version, and keeps the last config", async (t) => {
  const { cp, store, client } = await setup(t);
  client.start();
  await cp.waitFor((r) => r.type_url === ENDPOINTS);
  const good = cp.pushServices([web], "v1");
  await cp.waitFor((r) => r.response_nonce === good);
  const bad = cp.pushServices([{ ...web, virtual_ip: "not-an-ip" }], "v2");
  const nack = await cp.waitFor((r) => r.response_nonce === bad);
  t.is(nack.version_info, "v1");
  t.is(nack.error_detail?.code, 3);
  t.regex(nack.error_detail?.message ?? "", /virtual_ip "not-an-ip" is not an IPv4 address/);
  t.is(store.versions.services, "v1");
  t.is(store.serviceAt("10.96.0.10", 80)?.service.name, "web");
  t.regex(store.dump().lastRejected?.reason ?? "", /not-an-ip/);
});

test("reconnects after the control plane restarts and keeps serving meanwhile", async (t) => {
  const cp1 = await startFakeControlPlane();
  const store = new ConfigStore();
  const client = new DiscoveryClient({
    target: cp1.target,
    node,
    store,
    initialBackoffMs: 50,
    log: (m) => t.log(m),
  });
  let cp2: Awaited<ReturnType<typeof startFakeControlPlane>> | undefined;
  t.teardown(async () => {
    client.stop();
    await cp1.close();
    await cp2?.close();
  });
  client.start();
  await cp1.waitFor((r) => r.type_url === ENDPOINTS);
  const first = cp1.pushServices([web], "v1");
  await cp1.waitFor((r) => r.response_nonce === first);
  await cp1.close();
  await new Promise((r) => setTimeout(r, 200));
  t.is(
    store.serviceAt("10.96.0.10", 80)?.service.name,
    "web",
    "still routing while the control plane is away",
  );
  cp2 = await startFakeControlPlane(cp1.target);
  // On reconnect the sidecar says which version it holds.
  const resub = await cp2.waitFor((r) => r.type_url === SERVICE && r.response_nonce === "", 0, 8000);
  t.is(resub.version_info, "v1");
  const nonce = cp2.pushServices([{ ...web, virtual_ip: "10.96.0.20" }], "v2");
  await cp2.waitFor((r) => r.response_nonce === nonce);
  t.is(store.serviceAt("10.96.0.20", 80)?.service.name, "web");
  t.true(client.connects >= 2);
});

test("want() subscribes by name once; incremental responses merge and remove", async (t) => {
  const { cp, store, client } = await setup(t);
  client.start();
  await cp.waitFor((r) => r.type_url === POLICY);
  const from = cp.requests.length;
  client.want("web");
  client.want("db");
  client.want("web");
  const req = await cp.waitFor((r) => r.type_url === ENDPOINTS, from);
  t.deepEqual(req.resource_names, ["db", "shop", "web"], "names wanted in one tick go out together");
  await new Promise((r) => setTimeout(r, 100));
  t.is(cp.requests.slice(from).filter((r) => r.type_url === ENDPOINTS).length, 1);
  cp.pushEndpoints({ web: [webEndpoint], db: [] }, "e1");
  await cp.waitFor((r) => r.type_url === ENDPOINTS && r.version_info === "e1");
  t.true(store.hasEndpoints("db"));
  const n = cp.pushRaw({
    type_url: ENDPOINTS,
    version_info: "e2",
    incremental: true,
    resources: [
      { name: "web", endpoints: { service: "web", endpoints: [{ ...webEndpoint, address: "10.88.0.6" }] } },
    ],
    removed_resources: ["db"],
  });
  await cp.waitFor((r) => r.response_nonce === n);
  t.is(store.healthyEndpoints("web")[0]?.address, "10.88.0.6");
  t.false(store.hasEndpoints("db"));
});

test("routes, policies and telemetry are validated, stored and dumped; a bad route is NACKed", async (t) => {
  const { cp, store, client } = await setup(t);
  client.start();
  await cp.waitFor((r) => r.type_url === ROUTES);
  const route = {
    name: "shop",
    routes: {
      service: "shop",
      routes: [
        {
          name: "canary",
          version: "3",
          spec: {
            service: "shop",
            rules: [
              {
                match: { path_prefix: "/api", headers: { "x-canary": "1" } },
                split: [{ labels: { version: "v2" }, weight: 10 }],
                timeout_ms: 800,
                retries: { attempts: 2, retry_on_status: [503] },
                fault: { abort_ratio: 0.5, abort_status: 503 },
              },
            ],
          },
        },
      ],
    },
  };
  const good = cp.pushRaw({ type_url: ROUTES, version_info: "c1", resources: [route] });
  t.is((await cp.waitFor((r) => r.response_nonce === good)).error_detail, null);
  const rule = store.routesFor("shop")?.routes[0]?.rules[0];
  t.is(rule?.timeoutMs, 800);
  t.deepEqual(rule?.match?.headers, { "x-canary": "1" });
  t.deepEqual(rule?.retries?.retryOnStatus, [503]);
  t.deepEqual(rule?.fault, { delayRatio: 0, delayMs: 0, abortRatio: 0.5, abortStatus: 503 });
  const bad = cp.pushRaw({
    type_url: ROUTES,
    version_info: "c2",
    resources: [
      {
        ...route,
        routes: {
          ...route.routes,
          routes: [{ name: "x", spec: { rules: [{ match: { path_prefix: "api" } }] } }],
        },
      },
    ],
  });
  const nack = await cp.waitFor((r) => r.response_nonce === bad);
  t.regex(
    nack.error_detail?.message ?? "",
    /resources\[0\]\.routes\.routes\[0\]\.spec\.rules\[0\]\.match\.path_prefix "api" must start with "\/"/,
  );
  t.is(nack.version_info, "c1", "the NACK names the version it keeps");
  t.is(store.routesFor("shop")?.routes[0]?.name, "canary");

  const tel = cp.pushRaw({
    type_url: TELEMETRY,
    version_info: "t1",
    resources: [
      {
        name: "default",
        telemetry: { name: "default", spec: { tracing: { enabled: true, sampling_ratio: 0.25 } } },
      },
    ],
  });
  await cp.waitFor((r) => r.response_nonce === tel);
  t.is(store.telemetryFor("shop")?.tracing?.samplingRatio, 0.25);
  const badTel = cp.pushRaw({
    type_url: TELEMETRY,
    version_info: "t2",
    resources: [{ name: "default", telemetry: { name: "default", spec: { logging: { level: "loud" } } } }],
  });
  t.regex(
    (await cp.waitFor((r) => r.response_nonce === badTel)).error_detail?.message ?? "",
    /level must be debug, info, warn or error/,
  );
  const pol = cp.pushRaw({
    type_url: POLICY,
    version_info: "p1",
    resources: [
      {
        name: "shop",
        policy: {
          service: "shop",
          name: "cb",
          spec: {
            load_balancer: "round_robin",
            outlier_detection: { consecutive_5xx: 5, max_ejection_ratio: 0.5 },
          },
        },
      },
    ],
  });
  await cp.waitFor((r) => r.response_nonce === pol);
  const dump = store.dump();
  t.is(dump.policies.shop?.outlierDetection?.consecutive5xx, 5);
  t.is(dump.policies.shop?.loadBalancer, "round_robin");
  t.is(dump.routes.shop?.routes[0]?.name, "canary");
  t.deepEqual(dump.versions, { services: "", endpoints: "", routes: "c1", policies: "p1", telemetry: "t1" });
});
