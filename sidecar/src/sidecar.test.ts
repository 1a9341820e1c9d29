import http from "node:http";
import { type AddressInfo, connect, createServer } from "node:net";
import test from "ava";
import { startHarness } from "./testing/harness";

function fetchText(port: number, path: string, method = "GET"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const web = { name: "web", virtual_ip: "10.96.0.10", ports: [{ name: "http", port: 80, protocol: "http" }] };

test("health is 503 until both config types are accepted, then 200; config_dump shows versions", async (t) => {
  const h = await startHarness(t);
  const { health, admin, metrics } = h.sidecar.ports;
  t.is((await fetchText(health, "/healthz/ready")).status, 503);
  t.is((await fetchText(admin, "/ready")).status, 503);
  await h.configure([web], { web: [] });
  t.is((await fetchText(health, "/healthz/ready")).status, 200);
  t.is((await fetchText(admin, "/ready")).status, 200);
  const dump = JSON.parse((await fetchText(admin, "/config_dump")).body) as {
    versions: { services: string; endpoints: string };
    services: Array<{ name: string; virtualIp: string }>;
  };
  t.truthy(dump.versions.services);
  t.truthy(dump.versions.endpoints);
  t.deepEqual(
    dump.services.map((s) => [s.name, s.virtualIp]),
    [["web", "10.96.0.10"]],
  );
  const text = (await fetchText(metrics, "/metrics")).body;
  t.regex(text, /# TYPE weft_requests_total counter/);
  t.regex(text, /# TYPE weft_tcp_connections_total counter/);
});

test("drain lets an in-flight request finish, then stops accepting", async (t) => {
  const slow = http.createServer((_req, res) => setTimeout(() => res.end("done"), 300));
  await new Promise<void>((r) => slow.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => slow.close());
  const h = await startHarness(t);
  const port = (slow.address() as AddressInfo).port;
  await h.configure([web], {
    web: [{ id: "a", service: "web", address: "127.0.0.1", ports: [{ name: "http", port }], healthy: true }],
  });
  h.destination = { address: "10.96.0.10", port: 80 };
  const inFlight = fetchText(h.sidecar.ports.outbound, "/");
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  const drained = h.sidecar.drain(5000);
  t.deepEqual(await inFlight, { status: 200, body: "done" });
  await drained;
  t.true(Date.now() - started < 4500, "drain finishes when the request is done, not at its 5 s limit");
  await t.throwsAsync(fetchText(h.sidecar.ports.outbound, "/"), { code: "ECONNREFUSED" });
});

test("TCP to a service VIP is piped to an endpoint; with no endpoints the connection is closed", async (t) => {
  const echo = createServer((s) => s.end("from endpoint"));
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => echo.close());
  const port = (echo.address() as AddressInfo).port;
  const h = await startHarness(t);
  const db = { name: "db", virtual_ip: "10.96.0.20", ports: [{ name: "pg", port: 5432, protocol: "tcp" }] };
  const read = () =>
    new Promise<string>((resolve) => {
      let out = "";
      const c = connect(h.sidecar.ports.outbound, "127.0.0.1");
      c.on("data", (d) => (out += d));
      c.on("close", () => resolve(out));
      c.on("error", () => {});
    });
  h.destination = { address: "10.96.0.20", port: 5432 };
  await h.configure([db], {
    db: [{ id: "a", service: "db", address: "127.0.0.1", ports: [{ name: "pg", port }], healthy: true }],
  });
  t.is(await read(), "from endpoint");
  await h.configure([db], { db: [] });
  t.is(await read(), "");
});

test("POST /drain on the admin port stops traffic; readiness turns 503 and the config dump says draining", async (t) => {
  const h = await startHarness(t);
  await h.configure([web], { web: [] });
  const { admin, health, outbound } = h.sidecar.ports;
  t.is((await fetchText(health, "/healthz/ready")).status, 200);
  t.deepEqual(await fetchText(admin, "/drain", "POST"), { status: 200, body: "draining\n" });
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && (await fetchText(health, "/healthz/ready")).status !== 503) {
    await new Promise((r) => setTimeout(r, 20));
  }
  t.is((await fetchText(health, "/healthz/ready")).status, 503);
  const dump = JSON.parse((await fetchText(admin, "/config_dump")).body) as { draining: boolean };
  t.true(dump.draining);
  await t.throwsAsync(fetchText(outbound, "/"), { code: "ECONNREFUSED" });
});
