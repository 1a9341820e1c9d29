import test from "ava";
import { startFakeControlPlane } from "../testing/wire-fake-control-plane";
import { ConfigStore } from "./store";
import { DiscoveryClient } from "./wire-discovery";

const node = { id: "n1", workload: "shop", service: "shop", address: "10.88.0.2", labels: { v: "1" } };
const web = { name: "web", virtual_ip: "10.96.0.10", ports: [{ name: "http", port: 80, protocol: "http" }] };
const webEndpoint = { id: "c1", service: "web", address: "10.88.0.5", ports: [], healthy: true };
const SERVICE = "weft.v1.Service";
const ENDPOINTS = "weft.v1.ServiceEndpoints";

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

test("subscribes to both types, then ACKs a good response with its version and nonce", async (t) => {
  const { cp, store, client } = await setup(t);
  client.start();
  const first = await cp.waitFor((r) => r.type_url === SERVICE);
  t.is(first.node?.id, "n1");
  t.is(first.node?.labels.v, "1");
  await cp.waitFor((r) => r.type_url === ENDPOINTS);
  const nonce = cp.pushServices([web], "v1");
  const ack = await cp.waitFor((r) => r.response_nonce === nonce);
  t.is(ack.version_info, "v1");
  t.is(ack.error_detail, null);
  t.is(store.serviceAt("10.96.0.10", 80)?.service.name, "web");
  t.false(store.ready);
  const n2 = cp.pushEndpoints({ web: [webEndpoint] }, "e1");
  await cp.waitFor((r) => r.response_nonce === n2 && r.version_info === "e1");
  t.true(store.ready);
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
