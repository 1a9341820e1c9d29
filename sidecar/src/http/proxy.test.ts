import http from "node:http";
import { type AddressInfo, connect, createServer } from "node:net";
import test from "ava";
import { startHarness } from "../testing/harness";

interface Upstream {
  port: number;
  connections: number;
  seen: http.IncomingHttpHeaders[];
}

async function upstream(t: import("ava").ExecutionContext, name: string): Promise<Upstream> {
  const state: Upstream = { port: 0, connections: 0, seen: [] };
  const server = http.createServer((req, res) => {
    state.seen.push(req.headers);
    res.setHeader("via", "1.1 app-proxy");
    res.end(`hello from ${name}`);
  });
  server.on("connection", () => state.connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  state.port = (server.address() as AddressInfo).port;
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return state;
}

/** One request on a fresh client connection ("Connection: close"), like a short-lived client. */
function get(port: number, path = "/", host = "web"): Promise<{ status: number; body: string; via: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port, path, agent: false, headers: { host, via: "1.0 client" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body, via: String(res.headers.via ?? "") }),
        );
      },
    );
    req.on("error", reject);
  });
}

const web = () => ({
  name: "web",
  virtual_ip: "10.96.0.10",
  ports: [{ name: "http", port: 80, protocol: "http" }],
});
const endpoint = (id: string, port: number) => ({
  id,
  service: "web",
  address: "127.0.0.1",
  ports: [{ name: "http", port, protocol: "http" }],
  healthy: true,
});

test("outbound HTTP to a VIP reaches an endpoint, with Via appended both ways, over pooled upstream connections", async (t) => {
  const h = await startHarness(t);
  const a = await upstream(t, "a");
  await h.configure([web()], { web: [endpoint("a", a.port)] });
  h.destination = { address: "10.96.0.10", port: 80 };
  for (let i = 0; i < 3; i++) {
    const res = await get(h.sidecar.ports.outbound);
    t.is(res.status, 200);
    t.is(res.body, "hello from a");
    t.is(res.via, "1.1 app-proxy, 1.1 shop (weft-outbound)");
  }
  t.is(a.seen[0]?.via, "1.0 client, 1.1 shop (weft-outbound)");
  t.is(a.seen[0]?.host, "web", "the app's Host header is kept");
  // Three client connections, one upstream connection: the keep-alive pool reused it.
  t.is(a.connections, 1);
  t.regex(
    h.sidecar.metrics.render(),
    /weft_requests_total\{direction="outbound",service="web",code="200",route="default"\} 3/,
  );
});

test("requests are balanced over the healthy endpoints only", async (t) => {
  const h = await startHarness(t);
  const a = await upstream(t, "a");
  const b = await upstream(t, "b");
  const sick = { ...endpoint("c", 1), healthy: false };
  await h.configure([web()], { web: [endpoint("a", a.port), endpoint("b", b.port), sick] });
  h.destination = { address: "10.96.0.10", port: 80 };
  const bodies: string[] = [];
  for (let i = 0; i < 30; i++) bodies.push((await get(h.sidecar.ports.outbound)).body);
  // least_request (the default) spreads sequential requests over both; the unhealthy one gets none.
  t.deepEqual([...new Set(bodies)].sort(), ["hello from a", "hello from b"]);
});

test("a service without endpoints answers 503 naming the service", async (t) => {
  const h = await startHarness(t);
  await h.configure([web()], { web: [] });
  h.destination = { address: "10.96.0.10", port: 80 };
  const res = await get(h.sidecar.ports.outbound);
  t.is(res.status, 503);
  t.regex(res.body, /no healthy endpoints for service "web"/);
  t.is(res.via, "1.1 shop (weft-outbound)");
});

test("inbound HTTP on a declared port reaches the app on 127.0.0.1 with an inbound Via", async (t) => {
  const app = await upstream(t, "app");
  const h = await startHarness(t, { ports: new Map([[app.port, "http"]]) });
  await h.configure([], {});
  h.destination = { address: "10.88.0.2", port: app.port };
  const res = await get(h.sidecar.ports.inbound);
  t.is(res.body, "hello from app");
  t.is(res.via, "1.1 app-proxy, 1.1 shop (weft-inbound)");
  t.is(app.seen[0]?.via, "1.0 client, 1.1 shop (weft-inbound)");
  t.regex(
    h.sidecar.metrics.render(),
    /weft_requests_total\{direction="inbound",service="shop",code="200",route="default"\} 1/,
  );
});

test("TCP to an address that is not a VIP passes through, half-close included", async (t) => {
  const h = await startHarness(t);
  await h.configure([web()], { web: [] });
  // An echo server that answers only after the client has finished sending.
  const echo = createServer({ allowHalfOpen: true }, (s) => {
    const chunks: Buffer[] = [];
    s.on("data", (c) => chunks.push(c));
    s.on("end", () => s.end(Buffer.concat(chunks).toString().toUpperCase()));
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => echo.close());
  h.destination = { address: "127.0.0.1", port: (echo.address() as AddressInfo).port };
  const reply = await new Promise<string>((resolve, reject) => {
    const c = connect({ host: "127.0.0.1", port: h.sidecar.ports.outbound, allowHalfOpen: true }, () =>
      c.end("ping"),
    );
    let out = "";
    c.on("data", (d) => (out += d));
    c.on("end", () => resolve(out));
    c.on("error", reject);
  });
  t.is(reply, "PING");
  t.regex(h.sidecar.metrics.render(), /weft_tcp_connections_total\{direction="outbound"\} 1/);
});

test("a connection whose original destination is the sidecar itself is refused", async (t) => {
  const h = await startHarness(t);
  h.destination = { address: "127.0.0.1", port: h.sidecar.ports.outbound };
  const closed = await new Promise<boolean>((resolve) => {
    const c = connect({ host: "127.0.0.1", port: h.sidecar.ports.outbound });
    c.on("data", () => resolve(false));
    c.on("close", () => resolve(true));
    c.on("error", () => {});
  });
  t.true(closed);
});
