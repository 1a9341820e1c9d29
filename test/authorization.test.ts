// AuthorizationPolicy through real sidecars speaking mutual TLS (certificates from a real control
// plane's CA): the server sidecar lets through what its service's policy allows for the caller its
// certificate names, answers the rest 403 (gRPC: PERMISSION_DENIED) or closes the connection (TCP),
// and changes with each push.
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { type RunningControlPlane, startControlPlane } from "../control-plane/src/index";
import type { AuthorizationPolicySpec } from "../proto/gen/weft/v1/AuthorizationPolicySpec";
import type { Protocol } from "../sidecar/src/config/types";
import type { RunningSidecar } from "../sidecar/src/sidecar";
import { type SidecarPair, startPair } from "../sidecar/src/testing/pair";

async function controlPlane(t: ExecutionContext): Promise<RunningControlPlane> {
  const dataDir = mkdtempSync(join(tmpdir(), "weft-authz-"));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const cp = await startControlPlane({ dataDir, grpcPort: 0, httpPort: 0, grpcSocket: "", log: () => {} });
  t.teardown(() => cp.close());
  return cp;
}

async function pair(t: ExecutionContext, appPort: number, protocol: Protocol): Promise<SidecarPair> {
  const cp = await controlPlane(t);
  const p = await startPair({ appPort, protocol, mtls: { certificateAuthority: cp.grpcAddress } });
  t.teardown(() => p.close());
  return p;
}

let version = 0;
/** Pushes the server's policy (null: none) and waits until its sidecar holds it. */
async function pushAuthorization(p: SidecarPair, spec: AuthorizationPolicySpec | null): Promise<void> {
  // Tests run side by side: each push has its own number.
  const v = ++version;
  p.cp.pushRaw({
    type_url: "weft.v1.ServicePolicy",
    version_info: `a${v}`,
    resources: [
      {
        name: "server",
        policy: {
          service: "server",
          spec: { service: "server" },
          ...(spec ? { authorization: { name: "server-authz", version: String(v), spec } } : {}),
        },
      },
    ],
  });
  for (let i = 0; i < 200; i++) {
    const has = p.server.store.policyFor("server")?.authorization !== undefined;
    if (has === (spec !== null) && p.server.store.versions.policies === `a${v}`) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the server sidecar did not take the policy");
}

async function countingApp(t: ExecutionContext): Promise<{ port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end("ok\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => server.close());
  return { port: (server.address() as AddressInfo).port, hits };
}

function request(
  port: number,
  method: string,
  path: string,
): Promise<{ status: number; body: string; denied?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, agent: false }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          denied: res.headers["x-weft-denied"] as string | undefined,
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

function denials(s: RunningSidecar, caller: string): number {
  const line = s.metrics
    .render()
    .split("\n")
    .find((l) => l.startsWith(`weft_authorization_denied_total{service="server",caller="${caller}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

test("only what the policy allows the caller reaches the app; the rest is 403 saying which rule", async (t) => {
  const app = await countingApp(t);
  const p = await pair(t, app.port, "http");
  await pushAuthorization(p, {
    rules: [{ action: "ALLOW", from: ["client"], methods: ["GET"], path_prefix: "/api/" }],
  });
  t.is((await request(p.port, "GET", "/api/orders")).status, 200);
  const post = await request(p.port, "POST", "/api/orders");
  t.is(post.status, 403);
  t.is(
    post.body,
    'RBAC: access denied: service "client" may not POST /api/orders on "server" (AuthorizationPolicy server-authz, defaultAction)\n',
  );
  t.is(post.denied, "server-authz defaultAction");
  // Plain text has no identity: a rule with `from` never matches it.
  const plain = await request(p.server.ports.inbound, "GET", "/api/orders");
  t.is(plain.status, 403);
  t.regex(plain.body, /^RBAC: access denied: a caller without a mesh identity \(plain text\) may not GET/);
  t.deepEqual(app.hits, ["GET /api/orders"], "denied requests never reached the app");
  t.is(denials(p.server, "client"), 1);
  t.is(denials(p.server, ""), 1);

  // A DENY rule first, the rest allowed: the change is live, on the same connections.
  await pushAuthorization(p, {
    rules: [{ action: "DENY", from: ["client"], path_exact: "/admin" }],
    default_action: "ALLOW",
  });
  t.is((await request(p.port, "POST", "/api/orders")).status, 200);
  t.is((await request(p.port, "GET", "/admin?x=1")).status, 403);
  t.is(
    (await request(p.server.ports.inbound, "GET", "/admin")).status,
    200,
    "the DENY rule names client only",
  );
  // No policy: everything goes.
  await pushAuthorization(p, null);
  t.is((await request(p.port, "GET", "/admin")).status, 200);
});

test("a gRPC call the policy denies ends with PERMISSION_DENIED", async (t) => {
  const server = http2.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/grpc" });
    res.addTrailers({ "grpc-status": "0" });
    res.end(Buffer.from([0, 0, 0, 0, 0]));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => server.close());
  const p = await pair(t, (server.address() as AddressInfo).port, "grpc");
  await pushAuthorization(p, { rules: [{ action: "ALLOW", from: ["client"], path_prefix: "/pkg.Reader/" }] });
  const session = http2.connect(`http://127.0.0.1:${p.port}`);
  t.teardown(() => session.close());
  const call = (path: string) =>
    new Promise<string>((resolve, reject) => {
      const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc" });
      let status = "";
      req.on("response", (h) => {
        if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
      });
      req.on("trailers", (tr) => {
        status = String(tr["grpc-status"]);
      });
      req.on("close", () => resolve(status));
      req.on("error", reject);
      req.resume();
      req.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  t.is(await call("/pkg.Reader/Get"), "0");
  t.is(await call("/pkg.Writer/Put"), "7");
});

test("an opaque TCP connection the policy denies is closed before the app sees it", async (t) => {
  let accepted = 0;
  const echo = createServer((s) => {
    accepted++;
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => echo.close());
  const p = await pair(t, (echo.address() as AddressInfo).port, "tcp");
  const roundTrip = () =>
    new Promise<string>((resolve) => {
      const c = connect({ host: "127.0.0.1", port: p.port });
      let got = "";
      c.on("data", (d) => {
        got += d;
        c.end();
      });
      c.on("close", () => resolve(got));
      c.on("error", () => {});
      c.write("ping");
    });
  await pushAuthorization(p, { rules: [{ action: "ALLOW", from: ["client"] }] });
  t.is(await roundTrip(), "ping");
  await pushAuthorization(p, { rules: [{ action: "ALLOW", from: ["someone-else"] }] });
  t.is(await roundTrip(), "");
  t.is(accepted, 1);
  t.is(denials(p.server, "client"), 1);
});
