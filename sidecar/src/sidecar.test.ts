import http from "node:http";
import { type AddressInfo, connect, createServer } from "node:net";
import test, { type ExecutionContext } from "ava";
import type { CpuProfile, HeapProfile, HeapProfileNode } from "./admin/profiles";
import { exportedSpans } from "./testing/exported-telemetry";
import { type Harness, startHarness } from "./testing/harness";

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

/** A sidecar whose outbound connections go to service web, served by an app made of `handler`. */
async function sidecarBefore(t: ExecutionContext, handler: http.RequestListener): Promise<Harness> {
  const app = http.createServer(handler);
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => app.close());
  const h = await startHarness(t);
  const port = (app.address() as AddressInfo).port;
  await h.configure([web], {
    web: [{ id: "a", service: "web", address: "127.0.0.1", ports: [{ name: "http", port }], healthy: true }],
  });
  h.destination = { address: "10.96.0.10", port: 80 };
  return h;
}

/** Polls a readiness endpoint until it answers 200 (or 10 s pass); the last answer. */
async function whenReady(port: number, path: string): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await fetchText(port, path);
    if (r.status === 200 || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("health is 503 until both config types are accepted, then 200; config_dump shows versions", async (t) => {
  const h = await startHarness(t);
  const { health, admin, metrics } = h.sidecar.ports;
  t.is((await fetchText(health, "/healthz/ready")).status, 503);
  t.is((await fetchText(admin, "/ready")).status, 503);
  await h.configure([web], { web: [] });
  // Then tracing and access logging have loaded too (they may already have: the load starts at start).
  t.is((await whenReady(health, "/healthz/ready")).status, 200);
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

test("the first request after ready is traced: readiness waits for tracing to load", async (t) => {
  let traceparent: string | undefined;
  const h = await sidecarBefore(t, (req, res) => {
    traceparent ??= String(req.headers.traceparent ?? "none");
    res.end("ok");
  });
  const ready = await whenReady(h.sidecar.ports.health, "/healthz/ready");
  t.is(ready.status, 200, ready.body);
  t.deepEqual(await fetchText(h.sidecar.ports.outbound, "/"), { status: 200, body: "ok" });
  t.regex(traceparent ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, "the sidecar's span is the app's parent");
});

test("an inbound request's span names who called, the workload's service and the answer", async (t) => {
  const app = http.createServer((_req, res) => res.end("in"));
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => app.close());
  const h = await startHarness(t);
  await h.configure([web], { web: [] });
  // Inbound, the original destination is this workload's address and the app's port.
  h.destination = { address: "10.88.0.2", port: (app.address() as AddressInfo).port };
  t.is((await whenReady(h.sidecar.ports.health, "/healthz/ready")).status, 200);
  t.deepEqual(await fetchText(h.sidecar.ports.inbound, "/orders?id=1"), { status: 200, body: "in" });
  const [span] = await exportedSpans(h.cp, 2, 1);
  t.is(span?.name, "GET /orders");
  t.like(span?.attributes, {
    "network.peer.address": "127.0.0.1",
    // The Host node's http sent: 127.0.0.1:PORT, split as the semantic conventions want.
    "server.address": "127.0.0.1",
    "server.port": h.sidecar.ports.inbound,
    "weft.service": "shop",
    "weft.direction": "inbound",
    "http.response.status_code": 200,
  });
});

test("tracing that fails to load leaves the sidecar ready and proxying, untraced, and says why", async (t) => {
  let traceparent: string | undefined;
  const app = http.createServer((req, res) => {
    traceparent = String(req.headers.traceparent ?? "none");
    res.end("ok");
  });
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => app.close());
  const h = await startHarness(
    t,
    {},
    { importTelemetry: () => Promise.reject(new Error("cannot find module winston")) },
  );
  await h.configure([web], {
    web: [
      {
        id: "a",
        service: "web",
        address: "127.0.0.1",
        ports: [{ name: "http", port: (app.address() as AddressInfo).port }],
        healthy: true,
      },
    ],
  });
  h.destination = { address: "10.96.0.10", port: 80 };
  const ready = await whenReady(h.sidecar.ports.health, "/healthz/ready");
  t.is(ready.status, 200, ready.body);
  t.deepEqual(await fetchText(h.sidecar.ports.outbound, "/"), { status: 200, body: "ok" });
  t.is(traceparent, "none", "nothing traced, nothing invented");
  t.true(
    h.logs.some((l) => l === "telemetry unavailable (traffic is unaffected): cannot find module winston"),
    h.logs.join("\n"),
  );
});

test("drain lets an in-flight request finish, then stops accepting", async (t) => {
  const h = await sidecarBefore(t, (_req, res) => setTimeout(() => res.end("done"), 300));
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

  // A port the service does not have: closed at once and said why, once however often it is tried.
  h.destination = { address: "10.96.0.20", port: 5433 };
  t.is(await read(), "");
  t.is(await read(), "");
  const said = h.logs.filter((l) => l.startsWith("outbound connection to 10.96.0.20:5433 closed"));
  t.deepEqual(said, [
    `outbound connection to 10.96.0.20:5433 closed: that is service "db"'s virtual IP, and the service has no port 5433 (its ports: 5432/tcp); call one of those, or declare the port (weft run --port, ports: in weft.yaml, or the Service's spec.ports)`,
  ]);
});

test("POST /drain on the admin port stops traffic; readiness turns 503 and the config dump says draining", async (t) => {
  const h = await startHarness(t);
  await h.configure([web], { web: [] });
  const { admin, health, outbound } = h.sidecar.ports;
  t.is((await whenReady(health, "/healthz/ready")).status, 200);
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

test("POST /heap_profile samples the process's allocations while requests flow; bad seconds are a 400, a second one at once a 409", async (t) => {
  const h = await sidecarBefore(t, (_req, res) => res.end("ok"));
  const { admin, outbound } = h.sidecar.ports;
  t.is((await fetchText(admin, "/heap_profile?seconds=0", "POST")).status, 400);
  t.regex((await fetchText(admin, "/heap_profile?seconds=abc", "POST")).body, /seconds must be a number/);
  const profiling = fetchText(admin, "/heap_profile?seconds=1.5", "POST");
  await new Promise((r) => setTimeout(r, 100));
  t.is((await fetchText(admin, "/heap_profile?seconds=1", "POST")).status, 409);
  for (let i = 0; i < 200; i++) t.is((await fetchText(outbound, "/")).status, 200);
  const answer = await profiling;
  t.is(answer.status, 200);
  const profile = JSON.parse(answer.body) as HeapProfile;
  const names = new Set<string>();
  const walk = (n: HeapProfileNode) => {
    if (n.selfSize > 0) names.add(n.callFrame.functionName);
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  t.true(profile.samples.length > 0);
  // The proxy's own request path shows up. Each of these allocates a little per forwarded request,
  // so with a sample every 4 KiB on average, one of them alone could go unsampled in 200 requests.
  const requestPath = ["randomUuid", "forwardRequestHeaders", "endToEnd", "newContext", "responseFraming"];
  t.true(
    requestPath.some((f) => names.has(f)),
    `none of ${requestPath.join(", ")} among ${[...names].join(" ")}`,
  );
});

test("POST /cpu_profile samples where the process runs while requests flow; bad seconds are a 400, a second one at once a 409", async (t) => {
  const h = await sidecarBefore(t, (_req, res) => res.end("ok"));
  const { admin, outbound } = h.sidecar.ports;
  const tooLong = await fetchText(admin, "/cpu_profile?seconds=121", "POST");
  t.is(tooLong.status, 400);
  t.regex(tooLong.body, /at most 120/);
  const profiling = fetchText(admin, "/cpu_profile?seconds=1.5", "POST");
  await new Promise((r) => setTimeout(r, 100));
  t.is((await fetchText(admin, "/cpu_profile?seconds=1", "POST")).status, 409);
  for (let i = 0; i < 300; i++) t.is((await fetchText(outbound, "/")).status, 200);
  const answer = await profiling;
  t.is(answer.status, 200);
  const profile = JSON.parse(answer.body) as CpuProfile;
  t.is(profile.samples.length, profile.timeDeltas.length);
  t.true(profile.endTime - profile.startTime >= 1.4e6, `profiled ${profile.endTime - profile.startTime} us`);
  // Samples landed in the proxy's request path (the sidecar runs in this process: its functions are
  // the source files' own).
  const hit = new Set(
    profile.nodes
      .filter((n) => (n.hitCount ?? 0) > 0 && n.callFrame.url.includes("/sidecar/src/"))
      .map((n) => n.callFrame.url.split("/sidecar/src/")[1]),
  );
  t.true(
    [...hit].some((u) => u?.startsWith("http1/")),
    `no sample in sidecar/src/http1: ${[...hit].join(" ")}`,
  );
});
