// A service's rate limit (ResiliencePolicy rateLimit) through a real sidecar's inbound listener, in
// front of a real app: requests over the limit get 429 with Retry-After (gRPC: RESOURCE_EXHAUSTED)
// and never reach the app; an exempt route is never limited; the limit changes live with a push.
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import test, { type ExecutionContext } from "ava";
import type { RateLimit } from "../../proto/gen/weft/v1/RateLimit";
import { type Harness, startHarness } from "./testing/harness";

interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

function get(port: number, path: string, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The app: counts what reaches it; over h2c it answers as a gRPC server does. */
async function app(t: ExecutionContext, h2: boolean): Promise<{ port: number; hits: () => number }> {
  let hits = 0;
  const server = h2
    ? http2.createServer((_req, res) => {
        hits++;
        res.writeHead(200, { "content-type": "application/grpc" });
        res.addTrailers({ "grpc-status": "0" });
        res.end(Buffer.from([0, 0, 0, 0, 0]));
      })
    : http.createServer((_req, res) => {
        hits++;
        res.end("app");
      });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => server.close());
  return { port: (server.address() as AddressInfo).port, hits: () => hits };
}

let version = 0;
async function pushLimit(h: Harness, rateLimit: RateLimit | null): Promise<void> {
  version++;
  const nonce = h.cp.pushRaw({
    type_url: "weft.v1.ServicePolicy",
    version_info: `p${version}`,
    resources: [
      {
        name: "shop",
        policy: {
          service: "shop",
          name: "shop-limits",
          version: String(version),
          spec: { rate_limit: rateLimit },
        },
      },
    ],
  });
  const ack = await h.cp.waitFor((r) => r.response_nonce === nonce);
  if (ack.error_detail) throw new Error(`policy NACKed: ${ack.error_detail.message}`);
}

async function inbound(
  t: ExecutionContext,
  h2 = false,
): Promise<{ h: Harness; port: number; hits: () => number }> {
  const a = await app(t, h2);
  const h = await startHarness(t);
  await h.configure([{ name: "shop", virtual_ip: "10.96.0.20", ports: [] }], { shop: [] });
  // Inbound, the original destination is this workload's address and the app's port.
  h.destination = { address: "10.88.0.2", port: a.port };
  await h.whenReady();
  return { h, port: h.sidecar.ports.inbound, hits: a.hits };
}

test("over HTTP/1.1, a burst past the instance's limit is answered 429 by the sidecar, not the app", async (t) => {
  const { h, port, hits } = await inbound(t);
  await pushLimit(h, {
    requests_per_second: 1,
    burst: 5,
    routes: [{ path_exact: "/healthz", requests_per_second: 0 }],
  });
  const replies: Reply[] = [];
  for (let i = 0; i < 8; i++) replies.push(await get(port, `/items?i=${i}`));
  const statuses = replies.map((r) => r.status);
  // One request per second refills: at most one more than the burst can pass in this loop.
  t.true(
    statuses.filter((s) => s === 200).length >= 5 && statuses.filter((s) => s === 200).length <= 6,
    String(statuses),
  );
  t.is(statuses.slice(0, 5).join(), "200,200,200,200,200", "the burst passes");
  t.is(statuses.at(-1), 429);
  const limited = replies.at(-1) as Reply;
  t.is(limited.headers["retry-after"], "1");
  t.is(limited.headers["x-weft-ratelimited"], "instance");
  t.regex(
    limited.body,
    /each instance of shop takes at most 1 request per second \(ResiliencePolicy shop-limits\)/,
  );
  t.is(hits(), statuses.filter((s) => s === 200).length, "limited requests never reached the app");
  for (let i = 0; i < 10; i++) t.is((await get(port, "/healthz")).status, 200, "the exempt route");
  const metrics = h.sidecar.metrics.render();
  t.regex(metrics, /weft_rate_limited_requests_total\{service="shop",limit="instance"\} [1-3]\n/);
  t.regex(metrics, /weft_requests_total\{direction="inbound",service="shop",code="429"/);

  // Raised live: the next burst passes whole. Removed: nothing is limited.
  await pushLimit(h, { requests_per_second: 1000, burst: 0, routes: [] });
  for (let i = 0; i < 20; i++) t.is((await get(port, "/items")).status, 200);
  await pushLimit(h, null);
  for (let i = 0; i < 20; i++) t.is((await get(port, "/items")).status, 200);
});

test("over h2c, a route's own limit answers gRPC with RESOURCE_EXHAUSTED, which clients do not retry", async (t) => {
  const { h, port, hits } = await inbound(t, true);
  await pushLimit(h, {
    requests_per_second: 0,
    burst: 0,
    routes: [{ path_prefix: "/shop.Orders/", method: "POST", requests_per_second: 1, burst: 2 }],
  });
  const session = http2.connect(`http://127.0.0.1:${port}`);
  t.teardown(() => session.close());
  const call = (path: string) =>
    new Promise<{ status: number; grpcStatus?: string; limit?: string; message?: string }>(
      (resolve, reject) => {
        const stream = session.request({
          ":method": "POST",
          ":path": path,
          "content-type": "application/grpc",
          te: "trailers",
        });
        let head: http2.IncomingHttpHeaders = {};
        stream.on("response", (h) => (head = h));
        stream.on("trailers", (tr) => (head = { ...head, ...tr }));
        stream.on("error", reject);
        stream.resume();
        stream.on("end", () =>
          resolve({
            status: Number(head[":status"]),
            grpcStatus: head["grpc-status"] as string | undefined,
            limit: head["x-weft-ratelimited"] as string | undefined,
            message: head["grpc-message"] as string | undefined,
          }),
        );
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      },
    );
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await call("/shop.Orders/Place"));
  t.deepEqual(
    results.slice(0, 2).map((r) => r.grpcStatus),
    ["0", "0"],
  );
  const over = results.at(-1);
  t.like(over, { status: 200, grpcStatus: "8", limit: "route POST /shop.Orders/*" });
  t.regex(decodeURIComponent(over?.message ?? ""), /at most 1 request per second on POST \/shop.Orders\/\*/);
  const before = hits();
  for (let i = 0; i < 5; i++)
    t.is((await call("/shop.Catalog/List")).grpcStatus, "0", "other methods are not limited");
  t.is(hits(), before + 5);
});
