// Mutual TLS between real sidecars, with certificates from a real control plane's CA: the calling
// sidecar opens TLS 1.3 to the endpoint's sidecar and checks its identity; the receiving sidecar
// terminates it, tells the app who called (X-Forwarded-Client-Cert) and, where the service is
// STRICT, refuses plain text. HTTP/1.1, h2c and opaque TCP all cross the pair encrypted.

import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { type RunningControlPlane, startControlPlane } from "../control-plane/src/index";
import { type MtlsMode, TLS_MODE_LABEL, TLS_MODE_MUTUAL } from "../proto/mtls-mode";
import type { Protocol } from "../sidecar/src/config/types";
import type { RunningSidecar } from "../sidecar/src/sidecar";
import { type SidecarPair, startPair } from "../sidecar/src/testing/pair";

const CLIENT_ID = "spiffe://weft.local/ns/default/svc/client";

async function controlPlane(t: ExecutionContext): Promise<RunningControlPlane> {
  const dataDir = mkdtempSync(join(tmpdir(), "weft-mtls-"));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const cp = await startControlPlane({
    dataDir,
    grpcPort: 0,
    httpPort: 0,
    grpcSocket: "",
    log: () => {},
  });
  t.teardown(() => cp.close());
  return cp;
}

interface Seen {
  xfcc: Array<string | undefined>;
}

/** An HTTP/1.1 app that records the X-Forwarded-Client-Cert and X-Request-Id each request brought. */
async function httpApp(t: ExecutionContext): Promise<{
  port: number;
  seen: Seen;
  requestIds: Array<string | undefined>;
  connections: () => number;
}> {
  const seen: Seen = { xfcc: [] };
  const requestIds: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    seen.xfcc.push(req.headers["x-forwarded-client-cert"] as string | undefined);
    requestIds.push(req.headers["x-request-id"] as string | undefined);
    res.end("app says hi\n");
  });
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => server.close());
  return { port: (server.address() as AddressInfo).port, seen, requestIds, connections: () => connections };
}

async function pair(
  t: ExecutionContext,
  cp: RunningControlPlane,
  appPort: number,
  protocol: Protocol,
  mode: MtlsMode = "PERMISSIVE",
  serverIdentity?: string,
): Promise<{ p: SidecarPair; logs: string[] }> {
  const logs: string[] = [];
  const p = await startPair({
    appPort,
    protocol,
    mtls: { certificateAuthority: cp.grpcAddress, mode, ...(serverIdentity ? { serverIdentity } : {}) },
    log: (m) => logs.push(m),
  });
  t.teardown(() => p.close());
  return { p, logs };
}

function get(port: number, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/hello", headers, agent: false }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

/** The value of one series of a sidecar's metrics, 0 when it has none. */
function metric(sidecar: RunningSidecar, name: string, labels: string): number {
  const line = sidecar.metrics
    .render()
    .split("\n")
    .find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

test("HTTP/1.1 between two sidecars is mutual TLS, and the app learns who called", async (t) => {
  const cp = await controlPlane(t);
  const app = await httpApp(t);
  const { p } = await pair(t, cp, app.port, "http");
  // A client may not claim an identity: what it sends is replaced by the one its certificate proves.
  const r = await get(p.port, { "x-forwarded-client-cert": "URI=spiffe://weft.local/ns/default/svc/admin" });
  t.is(r.status, 200);
  t.is(r.body, "app says hi\n");
  t.deepEqual(app.seen.xfcc, [`URI=${CLIENT_ID}`]);
  t.is(metric(p.server, "weft_mtls_connections_total", 'direction="inbound",outcome="mtls"'), 1);
  t.is(metric(p.client, "weft_mtls_connections_total", 'direction="outbound",outcome="mtls"'), 1);
  // Each sidecar holds a certificate for its own service, chained to the control plane's root.
  const expiry = metric(
    p.server,
    "weft_workload_certificate_expiry_timestamp_seconds",
    'identity="spiffe://weft.local/ns/default/svc/server"',
  );
  t.true(expiry * 1000 > Date.now() + 23 * 3600_000, "a 24 h certificate");
  const issued = (await (await fetch(`http://${cp.httpAddress}/api/v1/ca`)).json()) as {
    issued: Array<{ identity: string }>;
  };
  t.deepEqual(issued.issued.map((i) => i.identity).sort(), [
    CLIENT_ID,
    "spiffe://weft.local/ns/default/svc/server",
  ]);
});

test("the mutual TLS connection to the peer sidecar outlives an app's keep-alive: a call every 5 s pays one handshake", async (t) => {
  const cp = await controlPlane(t);
  const app = await httpApp(t);
  const { p } = await pair(t, cp, app.port, "http");
  t.is((await get(p.port)).status, 200);
  // Past the 4 s a pooled connection to an app may idle (Node apps close theirs at 5 s), well within
  // the 60 s the server sidecar keeps an idle one.
  await new Promise((r) => setTimeout(r, 5500));
  t.is((await get(p.port)).status, 200);
  t.is(metric(p.client, "weft_mtls_connections_total", 'direction="outbound",outcome="mtls"'), 1);
  t.is(metric(p.server, "weft_mtls_connections_total", 'direction="inbound",outcome="mtls"'), 1);
  // The server sidecar's connection to the app still goes after 4 s idle.
  t.is(app.connections(), 2);
});

test("a plain-text client reaches a PERMISSIVE service, but cannot pass itself off as a mesh peer", async (t) => {
  const cp = await controlPlane(t);
  const app = await httpApp(t);
  const { p } = await pair(t, cp, app.port, "http");
  // Straight to the server sidecar's inbound listener, as a workload without a sidecar would come.
  const r = await get(p.server.ports.inbound, { "x-forwarded-client-cert": `URI=${CLIENT_ID}` });
  t.is(r.status, 200);
  t.deepEqual(app.seen.xfcc, [undefined]);
  t.is(metric(p.server, "weft_mtls_connections_total", 'direction="inbound",outcome="plaintext"'), 1);
});

test("a STRICT service refuses plain text, and still serves its mesh callers", async (t) => {
  const cp = await controlPlane(t);
  const app = await httpApp(t);
  const { p, logs } = await pair(t, cp, app.port, "http", "STRICT");
  await t.throwsAsync(get(p.server.ports.inbound), { code: "ECONNRESET" });
  t.deepEqual(app.seen.xfcc, [], "the refused request never reached the app");
  t.is(metric(p.server, "weft_mtls_connections_total", 'direction="inbound",outcome="refused-plaintext"'), 1);
  t.true(logs.some((l) => /refused a plain-text connection .* STRICT \(mutual TLS only\)/.test(l)));
  const r = await get(p.port);
  t.is(r.status, 200);
  t.deepEqual(app.seen.xfcc, [`URI=${CLIENT_ID}`]);
});

test("an endpoint whose certificate names another service is not sent the request", async (t) => {
  const cp = await controlPlane(t);
  const app = await httpApp(t);
  const { p } = await pair(t, cp, app.port, "http", "PERMISSIVE", "impostor");
  const r = await get(p.port);
  t.is(r.status, 503);
  t.regex(
    r.body,
    /presented spiffe:\/\/weft\.local\/ns\/default\/svc\/impostor, not spiffe:\/\/weft\.local\/ns\/default\/svc\/server/,
  );
  t.deepEqual(app.seen.xfcc, []);
  t.true(
    metric(p.client, "weft_mtls_connections_total", 'direction="outbound",outcome="handshake-failed"') >= 1,
  );
});

test("h2c (gRPC's transport) crosses the pair in mutual TLS", async (t) => {
  const cp = await controlPlane(t);
  const seen: Array<string | undefined> = [];
  const server = http2.createServer((req, res) => {
    seen.push(req.headers["x-forwarded-client-cert"] as string | undefined);
    res.writeHead(200, { "content-type": "application/grpc" });
    res.addTrailers({ "grpc-status": "0" });
    res.end(Buffer.from([0, 0, 0, 0, 0]));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => server.close());
  const { p } = await pair(t, cp, (server.address() as AddressInfo).port, "grpc");
  const session = http2.connect(`http://127.0.0.1:${p.port}`);
  t.teardown(() => session.close());
  const status = await new Promise<{ status: number; grpc: string }>((resolve, reject) => {
    const req = session.request({
      ":method": "POST",
      ":path": "/pkg.Svc/Call",
      "content-type": "application/grpc",
    });
    let s = 0;
    req.on("response", (h) => {
      s = Number(h[":status"]);
    });
    req.on("trailers", (tr) => resolve({ status: s, grpc: String(tr["grpc-status"]) }));
    req.on("error", reject);
    req.end(Buffer.from([0, 0, 0, 0, 0]));
  });
  t.deepEqual(status, { status: 200, grpc: "0" });
  t.deepEqual(seen, [`URI=${CLIENT_ID}`]);
  t.is(metric(p.server, "weft_mtls_connections_total", 'direction="inbound",outcome="mtls"'), 1);
});

test("opaque TCP crosses the pair in mutual TLS, both directions and the half-close", async (t) => {
  const cp = await controlPlane(t);
  // An echo server that answers once the client has finished sending (needs the half-close).
  const echo = createServer({ allowHalfOpen: true }, (s: Socket) => {
    const chunks: Buffer[] = [];
    s.on("data", (c) => chunks.push(c));
    s.on("end", () => s.end(Buffer.concat(chunks).toString("utf8").toUpperCase()));
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => echo.close());
  const { p } = await pair(t, cp, (echo.address() as AddressInfo).port, "tcp");
  const reply = await new Promise<string>((resolve, reject) => {
    const c = connect({ host: "127.0.0.1", port: p.port, allowHalfOpen: true });
    let got = "";
    c.on("data", (d) => (got += d));
    c.on("end", () => resolve(got));
    c.on("error", reject);
    c.end("shout this");
  });
  t.is(reply, "SHOUT THIS");
  t.is(metric(p.server, "weft_mtls_connections_total", 'direction="inbound",outcome="mtls"'), 1);
});

test("a DISABLE service is called in plain text, though both sidecars hold certificates", async (t) => {
  const cp = await controlPlane(t);
  const app = await httpApp(t);
  const { p } = await pair(t, cp, app.port, "http", "DISABLE");
  t.is((await get(p.port)).status, 200);
  t.deepEqual(app.seen.xfcc, [undefined]);
  t.is(metric(p.server, "weft_mtls_connections_total", 'direction="inbound",outcome="plaintext"'), 1);
  t.is(metric(p.client, "weft_mtls_connections_total", 'direction="outbound",outcome="mtls"'), 0);
});

test("a route's mirror copies go in mutual TLS too, so a STRICT service gets them with the caller's identity", async (t) => {
  const cp = await controlPlane(t);
  const hosts: string[] = [];
  const server = http.createServer((req, res) => {
    hosts.push(`${req.headers.host} ${req.headers["x-forwarded-client-cert"]}`);
    res.end("ok\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => server.close());
  const { p } = await pair(t, cp, (server.address() as AddressInfo).port, "http", "STRICT");
  // The pair's one endpoint is both the split's and the mirror's (its tls-mode label is a subset).
  const nonce = p.cp.pushRaw({
    type_url: "weft.v1.ServiceRoutes",
    version_info: "mirror-1",
    resources: [
      {
        name: "server",
        routes: {
          service: "server",
          routes: [
            {
              name: "shadow",
              version: "1",
              spec: { rules: [{ mirror: { labels: { [TLS_MODE_LABEL]: TLS_MODE_MUTUAL }, ratio: 1 } }] },
            },
          ],
        },
      },
    ],
  });
  const ack = await p.cp.waitFor((r) => r.response_nonce === nonce);
  t.is(ack.error_detail?.message, undefined);
  t.is((await get(p.port, { host: "server" })).status, 200);
  const deadline = Date.now() + 5000;
  while (hosts.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(hosts.sort(), [`server URI=${CLIENT_ID}`, `server-shadow URI=${CLIENT_ID}`]);
  t.is(metric(p.server, "weft_mtls_connections_total", 'direction="inbound",outcome="refused-plaintext"'), 0);
  t.is(
    metric(
      p.client,
      "weft_mirror_requests_total",
      `service="server",endpoint="127.0.0.1:${p.server.ports.inbound}",outcome="2xx"`,
    ),
    1,
  );
});

test("a plain client silent through the mutual TLS wait is TCP on an auto port, decided once", async (t) => {
  const cp = await controlPlane(t);
  const app = await httpApp(t);
  // A long detection wait, so that what happens inside each window does not hang on the scheduler.
  const p = await startPair({
    appPort: app.port,
    protocol: "auto",
    options: { detectTimeoutMs: 600 },
    mtls: { certificateAuthority: cp.grpcAddress },
  });
  t.teardown(() => p.close());
  // Straight to the server sidecar, as a workload without a sidecar comes, saying nothing at first
  // (as a server-first protocol's client does), then an HTTP request after the first wait but
  // inside what a second detection wait would have been.
  const answer = await new Promise<string>((resolve, reject) => {
    const c = connect({ host: "127.0.0.1", port: p.server.ports.inbound });
    let got = "";
    c.on("data", (d) => (got += d));
    c.on("end", () => resolve(got));
    c.on("error", reject);
    setTimeout(() => c.write("GET /late HTTP/1.1\r\nHost: server\r\nConnection: close\r\n\r\n"), 900);
  });
  // Piped as opaque TCP: the app answered itself, no sidecar's Via, no request id added.
  t.regex(answer, /^HTTP\/1\.1 200 OK\r\n/);
  t.notRegex(answer, /\r\nvia: /i, answer);
  t.is(metric(p.server, "weft_mtls_connections_total", 'direction="inbound",outcome="plaintext"'), 1);
  t.is(app.requestIds.length, 1);
  t.is(app.requestIds[0], undefined, "the sidecar did not parse it as HTTP");
});
