// On-demand subscriptions against a real control plane: a sidecar asks for a service's endpoints
// only when the app first connects to its VIP (the connection is held until they arrive) or
// resolves its name; a service whose endpoints never come gets a 503 after the wait.
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import dnsPacket from "dns-packet";
import { startControlPlane } from "../../../control-plane/src/index";
import { startSidecar } from "../sidecar";
import { startFakeControlPlane } from "../testing/wire-fake-control-plane";
import type { Destination } from "./original-dst";

const ENDPOINTS = "weft.v1.ServiceEndpoints";

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function sidecarFor(t: ExecutionContext, controlPlane: string, endpointsWaitMs = 5000) {
  const seen: { destination?: Destination } = {};
  const sidecar = await startSidecar(
    {
      controlPlane,
      nodeId: "client-1",
      workload: "client",
      address: "10.88.0.50",
      service: "",
      ports: new Map(),
      labels: {},
      dnsSearch: [],
      listen: { outbound: 0, inbound: 0, admin: 0, health: 0, metrics: 0, dns: 0 },
    },
    { originalDst: () => seen.destination, listenHost: "127.0.0.1", log: () => {}, endpointsWaitMs },
  );
  t.teardown(() => sidecar.drain(0));
  return { sidecar, seen };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

test("the first connection to a VIP subscribes to that service and is held until its endpoints arrive; DNS prefetches", async (t) => {
  const app = http.createServer((_req, res) => res.end("hello from web"));
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => app.close());
  const appPort = (app.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), "weft-od-"));
  const cp = await startControlPlane({
    dataDir: join(dir, "d"),
    grpcPort: 0,
    httpPort: 0,
    grpcSocket: "",
    log: () => {},
  });
  t.teardown(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = [{ name: "http", port: 80, protocol: "http" as const }];
  const endpoint = (service: string, p: number) => ({
    id: service,
    service,
    address: "127.0.0.1",
    ports: [{ name: "http", port: p, protocol: "http" as const }],
    labels: {},
    workload: service,
    node: "n1",
    healthy: true,
  });
  const synced = cp.registry.syncEndpoints(
    "daemon:n1",
    [endpoint("web", appPort), endpoint("other", 1)],
    [
      { name: "web", ports: port, labels: {} },
      { name: "other", ports: port, labels: {} },
    ],
  );
  const vip = synced.services.find((s) => s.name === "web")!.virtualIp;

  const { sidecar, seen } = await sidecarFor(t, cp.grpcAddress);
  await until("ready", () => sidecar.store.ready);
  const endpointsSub = () => cp.proxies()[0]?.types[ENDPOINTS]?.subscribed;
  t.is(endpointsSub(), undefined, "no endpoints asked for before they are needed");
  t.false(sidecar.store.hasEndpoints("web"));

  seen.destination = { address: vip, port: 80 };
  const res = await get(sidecar.ports.outbound);
  t.deepEqual(res, { status: 200, body: "hello from web" }, "the held connection went through");
  t.deepEqual(endpointsSub(), ["web"]);
  t.false(sidecar.store.hasEndpoints("other"), "only what was needed");

  // The app resolving "other" subscribes before it connects.
  const query = dnsPacket.encode({ type: "query", id: 2, questions: [{ type: "A", name: "other" }] });
  const udp = createSocket("udp4");
  t.teardown(() => udp.close());
  await new Promise<void>((resolve) => {
    udp.once("message", () => resolve());
    udp.send(query, sidecar.ports.dns, "127.0.0.1");
  });
  await until("prefetched endpoints of other", () => sidecar.store.hasEndpoints("other"));
  t.deepEqual(endpointsSub(), ["other", "web"]);
  await until("synced", () => cp.proxies()[0]?.types[ENDPOINTS]?.status === "SYNCED");
});

test("a service whose endpoints never arrive gets a 503 naming the wait after endpointsWaitMs", async (t) => {
  const cp = await startFakeControlPlane();
  t.teardown(() => cp.close());
  cp.pushServices(
    [{ name: "slow", virtual_ip: "10.96.0.77", ports: [{ name: "http", port: 80, protocol: "http" }] }],
    "s1",
  );
  const { sidecar, seen } = await sidecarFor(t, cp.target, 300);
  await until("ready", () => sidecar.store.ready);
  seen.destination = { address: "10.96.0.77", port: 80 };
  const started = Date.now();
  const res = await get(sidecar.ports.outbound);
  t.is(res.status, 503);
  t.regex(res.body, /no endpoints for service "slow" yet: the control plane did not send them within 300 ms/);
  t.true(Date.now() - started >= 280);
  const asked = await cp.waitFor((r) => r.type_url === ENDPOINTS);
  t.deepEqual(asked.resource_names, ["slow"]);
});
