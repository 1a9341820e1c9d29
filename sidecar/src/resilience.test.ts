// Routing and resilience through a real sidecar (its outbound listener, the real routing layer and
// proxies) in front of real HTTP servers that fail on purpose: the config comes from a fake control
// plane over the real stream. What a user of Istio or Linkerd relies on without configuring much.
import http from "node:http";
import http2 from "node:http2";
import { type AddressInfo, connect, createServer } from "node:net";
import test, { type ExecutionContext } from "ava";
import type { SpanRecord } from "../../control-plane/src/telemetry/types";
import type { ResiliencePolicySpec } from "../../proto/gen/weft/v1/ResiliencePolicySpec";
import type { RouteRule } from "../../proto/gen/weft/v1/RouteRule";
import { exportedSpans, pushedAccessLines } from "./testing/exported-telemetry";
import { type Harness, startHarness } from "./testing/harness";
import { pushRoutes as pushWebRoutes } from "./testing/push-routes";
import { refusingPort } from "./testing/refusing-port";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function server(t: ExecutionContext, handler: Handler): Promise<{ port: number; hits: () => number }> {
  let hits = 0;
  const s = http.createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => {
    s.closeAllConnections();
    s.close();
  });
  return { port: (s.address() as AddressInfo).port, hits: () => hits };
}

const answer =
  (body: string, status = 200): Handler =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(body);
  };

interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

function request(
  port: number,
  path = "/",
  method = "GET",
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path, method, agent: false, headers: { host: "web", ...headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const web = { name: "web", virtual_ip: "10.96.0.10", ports: [{ name: "http", port: 80, protocol: "http" }] };
const endpoint = (port: number, labels: Record<string, string> = {}) => ({
  id: `web-${port}`,
  service: "web",
  address: "127.0.0.1",
  ports: [{ name: "http", port, protocol: "http" }],
  labels,
  healthy: true,
});

let version = 0;
async function pushRoutes(h: Harness, rules: RouteRule[]): Promise<void> {
  const nack = await pushWebRoutes(h, rules, ++version);
  if (nack !== undefined) throw new Error(`routes NACKed: ${nack}`);
}

async function pushPolicy(h: Harness, spec: ResiliencePolicySpec): Promise<void> {
  version++;
  const nonce = h.cp.pushRaw({
    type_url: "weft.v1.ServicePolicy",
    version_info: `p${version}`,
    resources: [
      { name: "web", policy: { service: "web", name: "web-policy", version: String(version), spec } },
    ],
  });
  const ack = await h.cp.waitFor((r) => r.response_nonce === nonce);
  if (ack.error_detail) throw new Error(`policy NACKed: ${ack.error_detail.message}`);
}

async function setup(t: ExecutionContext, endpoints: Array<ReturnType<typeof endpoint>>): Promise<Harness> {
  const h = await startHarness(t);
  await h.configure([web], { web: endpoints });
  h.destination = { address: "10.96.0.10", port: 80 };
  // Tests read the spans and access-log lines of their requests: none may come before ready.
  await h.whenReady();
  return h;
}

const retriesOf = (spans: SpanRecord[]) => spans.map((s) => Number(s.attributes["weft.retries"] ?? 0));

function metric(h: Harness, pattern: RegExp): number {
  const line = h.sidecar.metrics
    .render()
    .split("\n")
    .find((l) => pattern.test(l));
  return line ? Number(line.split(" ").pop()) : 0;
}

test("a replica that refuses connections costs no request: each attempt on it is retried elsewhere", async (t) => {
  const good = await server(t, answer("good"));
  const dead = await refusingPort();
  const h = await setup(t, [endpoint(good.port), endpoint(dead)]);
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) statuses.push((await request(h.sidecar.ports.outbound)).status);
  t.deepEqual([...new Set(statuses)], [200], "every request succeeded");
  t.is(good.hits(), 40);
  t.true(metric(h, new RegExp(`weft_upstream_retries_total\\{.*endpoint="127.0.0.1:${dead}"`)) > 0);
});

test("a replica that keeps answering 503 stops receiving most traffic on its own", async (t) => {
  const good = await server(t, answer("good"));
  const sick = await server(t, answer("overloaded", 503));
  const h = await setup(t, [endpoint(good.port), endpoint(sick.port)]);
  // POST is not retried on 503, so every request the sick replica gets reaches the client.
  const statuses: number[] = [];
  for (let i = 0; i < 60; i++) statuses.push((await request(h.sidecar.ports.outbound, "/", "POST")).status);
  t.true(sick.hits() <= 10, `the sick replica got ${sick.hits()} of 60 requests`);
  t.true(
    statuses.slice(-20).every((s) => s === 200),
    "after a few failures, only the healthy replica answers",
  );
});

test("with round robin, five 503s in a row eject a replica until its ejection time is up", async (t) => {
  const good = await server(t, answer("good"));
  const sick = await server(t, answer("overloaded", 503));
  const h = await setup(t, [endpoint(good.port), endpoint(sick.port)]);
  await pushPolicy(h, { load_balancer: "round_robin" });
  for (let i = 0; i < 30; i++) await request(h.sidecar.ports.outbound, "/", "POST");
  t.is(sick.hits(), 5, "turns alternate until the fifth consecutive 503 ejects it");
  t.is(metric(h, new RegExp(`weft_outlier_ejections_total{.*endpoint="127.0.0.1:${sick.port}"`)), 1);
  t.is(metric(h, new RegExp(`weft_outlier_ejected{.*endpoint="127.0.0.1:${sick.port}"`)), 1);
});

test("with a consistent hash on a header, each user's requests stay on one replica, and users spread over them", async (t) => {
  const replicas = await Promise.all(["a", "b", "c"].map((name) => server(t, answer(name))));
  const h = await setup(
    t,
    replicas.map((r) => endpoint(r.port)),
  );
  await pushPolicy(h, { consistent_hash: { http_header_name: "x-user" } });
  const homes = new Map<string, Set<string>>();
  for (let round = 0; round < 3; round++) {
    for (let u = 0; u < 12; u++) {
      const r = await request(h.sidecar.ports.outbound, "/cart", "GET", { "x-user": `user-${u}` });
      t.is(r.status, 200);
      const seen = homes.get(`user-${u}`) ?? new Set<string>();
      seen.add(r.body);
      homes.set(`user-${u}`, seen);
    }
  }
  for (const [u, seen] of homes) t.is(seen.size, 1, `${u} went to ${[...seen].join(" and ")}`);
  const used = new Set([...homes.values()].flatMap((s) => [...s]));
  t.true(used.size >= 2, `12 users all went to ${[...used].join(", ")}`);
  // Without the header a request is still served (balanced as least_request).
  t.is((await request(h.sidecar.ports.outbound)).status, 200);
});

test("generateCookie: a client without the cookie is given one, and with it stays on one replica", async (t) => {
  const replicas = await Promise.all(["a", "b", "c"].map((name) => server(t, answer(name))));
  const h = await setup(
    t,
    replicas.map((r) => endpoint(r.port)),
  );
  await pushPolicy(h, {
    consistent_hash: { http_cookie_name: "session", generate_cookie: { path: "/shop", ttl_seconds: 600 } },
  });
  const homes = new Set<string>();
  for (let client = 0; client < 12; client++) {
    // A browser's first visit: no cookie, so the sidecar makes one up and picks the replica by it.
    const first = await request(h.sidecar.ports.outbound, "/shop/cart");
    t.is(first.status, 200);
    const setCookie = first.headers["set-cookie"] ?? [];
    t.is(setCookie.length, 1, `one Set-Cookie, got ${JSON.stringify(setCookie)}`);
    const m = /^session=([0-9a-f-]{36}); Path=\/shop; Max-Age=600; HttpOnly$/.exec(setCookie[0] ?? "");
    t.truthy(m, setCookie[0]);
    // Its next visits send it back: the same replica as the first, and no new cookie.
    for (let visit = 0; visit < 3; visit++) {
      const next = await request(h.sidecar.ports.outbound, "/shop/cart", "GET", {
        cookie: `session=${m?.[1]}`,
      });
      t.is(next.body, first.body, `client ${client} moved from ${first.body} to ${next.body}`);
      t.is(next.headers["set-cookie"], undefined);
    }
    homes.add(first.body);
  }
  t.true(homes.size >= 2, `12 clients all went to ${[...homes].join(", ")}`);
});

test("generateCookie over HTTP/2: the cookie is set on the upstream's response", async (t) => {
  const upstream = http2.createServer();
  upstream.on("stream", (stream) => {
    stream.respond({ ":status": 200, "set-cookie": ["theme=dark"] });
    stream.end("ok");
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => upstream.close());
  const h = await setup(t, [endpoint((upstream.address() as AddressInfo).port)]);
  await pushPolicy(h, { consistent_hash: { http_cookie_name: "sid", generate_cookie: {} } });
  const headers = await h2Request(h.sidecar.ports.outbound, "/");
  const cookies = headers["set-cookie"] as string[] | undefined;
  t.is(cookies?.length, 2, JSON.stringify(cookies));
  t.is(cookies?.[0], "theme=dark", "the upstream's own cookie is kept");
  t.regex(
    cookies?.[1] ?? "",
    /^sid=[0-9a-f-]{36}; Path=\/; HttpOnly$/,
    "an empty generateCookie: a session cookie on /",
  );
});

test("GET is retried on 503 by default; the client sees the healthy answer", async (t) => {
  const good = await server(t, answer("good"));
  const sick = await server(t, answer("overloaded", 503));
  const h = await setup(t, [endpoint(good.port), endpoint(sick.port)]);
  // Round robin sends every other first attempt to the sick replica (least request would soon avoid
  // it), so the answers below are 200 only if those attempts were retried; no route: the default.
  await pushPolicy(h, { load_balancer: "round_robin" });
  for (let i = 0; i < 4; i++) {
    const r = await request(h.sidecar.ports.outbound);
    t.is(r.status, 200);
    t.is(r.body, "good");
  }
  t.true(sick.hits() >= 2, `the sick replica was tried ${sick.hits()} times`);
  t.true(
    metric(
      h,
      new RegExp(`weft_upstream_retries_total\\{.*endpoint="127.0.0.1:${sick.port}".*reason="503"`),
    ) >= 2,
  );
  // Each request's span says how often it was retried: once for every attempt the sick replica got.
  const spans = await exportedSpans(h.cp, 3, 4);
  t.is(spans.length, 4);
  t.deepEqual(
    spans.map((s) => s.attributes["http.response.status_code"]),
    [200, 200, 200, 200],
  );
  t.is(
    retriesOf(spans).reduce((a, b) => a + b, 0),
    sick.hits(),
  );
  t.true(retriesOf(spans).every((n) => n <= 1));
});

test("a weighted split sends traffic by label, and a new route version moves it at once", async (t) => {
  const v1 = await server(t, answer("v1"));
  const v2 = await server(t, answer("v2"));
  const h = await setup(t, [endpoint(v1.port, { version: "v1" }), endpoint(v2.port, { version: "v2" })]);
  const count = async (n: number) => {
    const seen = { v1: 0, v2: 0 };
    for (let i = 0; i < n; i++) seen[(await request(h.sidecar.ports.outbound)).body as "v1" | "v2"]++;
    return seen;
  };
  await pushRoutes(h, [
    {
      split: [
        { labels: { version: "v1" }, weight: 90 },
        { labels: { version: "v2" }, weight: 10 },
      ],
    },
  ]);
  const canary = await count(300);
  t.true(canary.v2 >= 9 && canary.v2 <= 75, `v2 got ${canary.v2} of 300 at 10%`);
  await pushRoutes(h, [{ split: [{ labels: { version: "v2" }, weight: 100 }] }]);
  t.deepEqual(await count(20), { v1: 0, v2: 20 });
});

test("rules match by path, method and header; the first match wins and names the route", async (t) => {
  const v1 = await server(t, answer("v1"));
  const v2 = await server(t, answer("v2"));
  const h = await setup(t, [endpoint(v1.port, { version: "v1" }), endpoint(v2.port, { version: "v2" })]);
  await pushRoutes(h, [
    { match: { headers: { "x-canary": "1" } }, split: [{ labels: { version: "v2" }, weight: 1 }] },
    { match: { path_prefix: "/api", method: "POST" }, split: [{ labels: { version: "v2" }, weight: 1 }] },
    { split: [{ labels: { version: "v1" }, weight: 1 }] },
  ]);
  const port = h.sidecar.ports.outbound;
  t.is((await request(port, "/", "GET", { "x-canary": "1" })).body, "v2");
  t.is((await request(port, "/api/orders?x=1", "POST")).body, "v2");
  t.is((await request(port, "/api/orders", "GET")).body, "v1");
  t.is((await request(port, "/other")).body, "v1");
  t.regex(h.sidecar.metrics.render(), /weft_requests_total\{[^}]*route="web-route"\} 4/);
});

test("a route timeout answers 504; a per-try timeout retries on another replica", async (t) => {
  const slow = await server(t, (_req, res) => setTimeout(() => answer("slow")(_req, res), 3000));
  const h = await setup(t, [endpoint(slow.port)]);
  await pushRoutes(h, [{ timeout_ms: 200 }]);
  const r = await request(h.sidecar.ports.outbound);
  t.is(r.status, 504);
  t.regex(r.body, /timeout/);

  const fast = await server(t, answer("fast"));
  await h.configure([web], { web: [endpoint(slow.port), endpoint(fast.port)] });
  await pushRoutes(h, [{ retries: { attempts: 2, per_try_timeout_ms: 300 } }]);
  for (let i = 0; i < 4; i++) t.is((await request(h.sidecar.ports.outbound)).body, "fast");
  t.true(metric(h, new RegExp(`weft_upstream_timeouts_total\\{.*endpoint="127.0.0.1:${slow.port}"`)) >= 1);
});

test("fault injection aborts and delays requests without touching the endpoint", async (t) => {
  const app = await server(t, answer("ok"));
  const h = await setup(t, [endpoint(app.port)]);
  await pushRoutes(h, [
    { match: { path_prefix: "/fault" }, fault: { abort_ratio: 1, abort_status: 503 } },
    { match: { path_prefix: "/delay" }, fault: { delay_ratio: 1, delay_ms: 50 } },
    {},
  ]);
  const aborted = await request(h.sidecar.ports.outbound, "/fault/x");
  t.is(aborted.status, 503);
  t.is(aborted.headers["x-weft-fault"], "abort");
  t.is(app.hits(), 0);
  t.is((await request(h.sidecar.ports.outbound, "/delay")).body, "ok");
  t.is((await request(h.sidecar.ports.outbound, "/other")).body, "ok");
  t.true(metric(h, /weft_faults_injected_total\{.*kind="abort"/) >= 1);
  t.true(metric(h, /weft_faults_injected_total\{.*kind="delay"/) >= 1);
});

test("the circuit breaker refuses requests over its limits with 503 and x-weft-overflow", async (t) => {
  const held: http.ServerResponse[] = [];
  let hold = true;
  const app = await server(t, (_req, res) => (hold ? held.push(res) : res.end("done")));
  const h = await setup(t, [endpoint(app.port)]);
  await pushPolicy(h, { circuit_breaker: { max_connections: 1, max_pending_requests: 1 } });
  const first = [request(h.sidecar.ports.outbound), request(h.sidecar.ports.outbound)];
  for (let i = 0; held.length < 2 && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
  t.is(held.length, 2, "both requests within the limits reached the app");
  const over = await request(h.sidecar.ports.outbound);
  t.is(over.status, 503);
  t.is(over.headers["x-weft-overflow"], "pending-requests");
  t.regex(over.body, /circuitBreaker/);
  hold = false;
  for (const res of held) res.end("done");
  t.deepEqual(
    (await Promise.all(first)).map((r) => r.status),
    [200, 200],
  );
  t.true(metric(h, /weft_circuit_breaker_overflows_total\{service="web"/) >= 1);
  t.is((await request(h.sidecar.ports.outbound)).status, 200, "back to normal once requests finish");
});

test("an opaque TCP connection to a refusing replica is connected to another one", async (t) => {
  const echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => echo.close());
  const good = (echo.address() as AddressInfo).port;
  const dead = await refusingPort();
  const h = await startHarness(t);
  const tcpService = { ...web, ports: [{ name: "db", port: 80, protocol: "tcp" }] };
  const ep = (port: number) => ({ ...endpoint(port), ports: [{ name: "db", port, protocol: "tcp" }] });
  await h.configure([tcpService], { web: [ep(dead), ep(good)] });
  h.destination = { address: "10.96.0.10", port: 80 };
  for (let i = 0; i < 6; i++) {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(h.sidecar.ports.outbound, "127.0.0.1", () => socket.end(`ping ${i}`));
      let data = "";
      socket.on("data", (d) => (data += d));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    t.is(reply, `ping ${i}`);
  }
});

/** One h2c request (prior knowledge) to the sidecar; resolves with the response headers. */
function h2Request(port: number, path: string): Promise<http2.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const req = session.request({ ":path": path, ":authority": "web" });
    req.on("response", (headers) => {
      req.resume();
      req.on("end", () => {
        session.close();
        resolve(headers);
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** One request on an open h2c session to the sidecar (a body when given); its status and body. */
function h2Exchange(
  session: http2.ClientHttp2Session,
  method: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request(
      { ":method": method, ":path": "/", ":authority": "web" },
      { endStream: !body },
    );
    let status = 0;
    let text = "";
    req.on("response", (headers) => {
      status = Number(headers[":status"]);
    });
    req.setEncoding("utf8");
    req.on("data", (c: string) => (text += c));
    req.on("end", () => resolve({ status, body: text }));
    req.on("error", reject);
    if (body) req.end(body);
  });
}

test("over h2c too, an injected abort and a circuit-breaker overflow say so in their headers", async (t) => {
  const held: http2.ServerHttp2Stream[] = [];
  const upstream = http2.createServer();
  upstream.on("stream", (stream) => held.push(stream));
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => {
    for (const s of held) s.close();
    upstream.close();
  });
  const h = await setup(t, [endpoint((upstream.address() as AddressInfo).port)]);
  await pushRoutes(h, [
    { match: { path_prefix: "/fault" }, fault: { abort_ratio: 1, abort_status: 503 } },
    {},
  ]);
  await pushPolicy(h, { circuit_breaker: { max_connections: 1, max_pending_requests: 1 } });
  const aborted = await h2Request(h.sidecar.ports.outbound, "/fault/x");
  t.is(Number(aborted[":status"]), 503);
  t.is(aborted["x-weft-fault"], "abort");
  const first = [h2Request(h.sidecar.ports.outbound, "/a"), h2Request(h.sidecar.ports.outbound, "/b")];
  for (let i = 0; held.length < 2 && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
  t.is(held.length, 2, "both requests within the limits reached the upstream");
  const over = await h2Request(h.sidecar.ports.outbound, "/c");
  t.is(Number(over[":status"]), 503);
  t.is(over["x-weft-overflow"], "pending-requests");
  for (const s of held) {
    s.respond({ ":status": 200 });
    s.end("done");
  }
  t.deepEqual(
    (await Promise.all(first)).map((r) => Number(r[":status"])),
    [200, 200],
  );
});

test("over h2c, a replica that refuses connections costs no request, POST bodies included", async (t) => {
  const upstream = http2.createServer();
  let hits = 0;
  upstream.on("stream", (stream, headers) => {
    hits++;
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      stream.respond({ ":status": 200 });
      stream.end(`${headers[":method"]} ${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => upstream.close());
  const dead = await refusingPort();
  const h = await setup(t, [endpoint((upstream.address() as AddressInfo).port), endpoint(dead)]);
  // Round robin: every other attempt goes to the refusing replica first.
  await pushPolicy(h, { load_balancer: "round_robin" });
  const session = http2.connect(`http://127.0.0.1:${h.sidecar.ports.outbound}`);
  t.teardown(() => session.close());
  const replies = [];
  for (let i = 0; i < 10; i++)
    replies.push(await h2Exchange(session, i % 2 ? "POST" : "GET", i % 2 ? `body-${i}` : undefined));
  t.deepEqual(
    replies.map((r) => r.status),
    Array(10).fill(200),
  );
  t.deepEqual(
    replies.map((r) => r.body),
    replies.map((_, i) => (i % 2 ? `POST body-${i}` : "GET ")),
  );
  t.is(hits, 10);
  const refused = metric(h, new RegExp(`weft_upstream_retries_total\\{.*endpoint="127.0.0.1:${dead}"`));
  t.true(refused > 0);
  const spans = await exportedSpans(h.cp, 3, 10);
  t.is(
    retriesOf(spans).reduce((a, b) => a + b, 0),
    refused,
    "each refused attempt is a retry on its request's span",
  );
});

test("over h2c, access-log lines count the body bytes each way", async (t) => {
  const upstream = http2.createServer();
  upstream.on("stream", (stream) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      stream.respond({ ":status": 200 });
      stream.end(`echo:${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => upstream.close());
  const h = await setup(t, [endpoint((upstream.address() as AddressInfo).port)]);
  const session = http2.connect(`http://127.0.0.1:${h.sidecar.ports.outbound}`);
  t.teardown(() => session.close());
  const reply = await h2Exchange(session, "POST", "x".repeat(3000));
  t.is(reply.body.length, 3005);
  const [line] = await pushedAccessLines(h.cp, 1);
  t.like(line?.attributes, { protocol: "h2", status: "200", bytes_received: "3000", bytes_sent: "3005" });
});

test("over h2c, an upstream that closes a stream without answering gets the client a 502, not a hang", async (t) => {
  const upstream = http2.createServer();
  upstream.on("stream", (stream) => stream.close(http2.constants.NGHTTP2_NO_ERROR));
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => upstream.close());
  const h = await setup(t, [endpoint((upstream.address() as AddressInfo).port)]);
  const session = http2.connect(`http://127.0.0.1:${h.sidecar.ports.outbound}`);
  t.teardown(() => session.close());
  const reply = await h2Exchange(session, "POST", "order");
  t.is(reply.status, 502);
  t.regex(reply.body, /closed the stream without a response/);
});

/** A server that records what each request brought (method, path, Host, body) and answers `name`. */
async function recorder(t: ExecutionContext, name: string, hold = false) {
  const seen: Array<{ method: string; path: string; host: string; body: string; traceparent?: string }> = [];
  const held: http.ServerResponse[] = [];
  const s = await server(t, (req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        path: req.url ?? "",
        host: req.headers.host ?? "",
        body,
        ...(req.headers.traceparent ? { traceparent: String(req.headers.traceparent) } : {}),
      });
      if (hold) held.push(res);
      else answer(name)(req, res);
    });
  });
  t.teardown(() => {
    for (const r of held) r.destroy();
  });
  return { ...s, seen, held };
}

const waitUntil = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
};

test("a route's mirror copies each request to its subset with a -shadow host; the client gets only the split's answer", async (t) => {
  const v1 = await recorder(t, "v1");
  const v2 = await recorder(t, "v2");
  const h = await setup(t, [endpoint(v1.port, { version: "v1" }), endpoint(v2.port, { version: "v2" })]);
  await pushRoutes(h, [
    { split: [{ labels: { version: "v1" }, weight: 100 }], mirror: { labels: { version: "v2" }, ratio: 1 } },
  ]);
  const post = await request(
    h.sidecar.ports.outbound,
    "/orders?x=1",
    "POST",
    { "content-type": "text/plain" },
    "an order",
  );
  const get = await request(h.sidecar.ports.outbound, "/orders/7");
  t.deepEqual([post.body, get.body], ["v1", "v1"], "every answer is the split's");
  await waitUntil("two copies", () => v2.seen.length === 2);
  t.deepEqual(
    v2.seen.map(({ traceparent, ...rest }) => rest),
    [
      { method: "POST", path: "/orders?x=1", host: "web-shadow", body: "an order" },
      { method: "GET", path: "/orders/7", host: "web-shadow", body: "" },
    ],
  );
  t.deepEqual(
    v1.seen.map((r) => [r.method, r.path, r.host, r.body]),
    [
      ["POST", "/orders?x=1", "web", "an order"],
      ["GET", "/orders/7", "web", ""],
    ],
  );
  // The copy carries the same trace context as the request it copies.
  t.is(v2.seen[0]?.traceparent?.split("-")[1], v1.seen[0]?.traceparent?.split("-")[1]);
  await waitUntil("the metric", () => metric(h, /weft_mirror_requests_total\{.*outcome="2xx"/) === 2);
  t.is(
    metric(
      h,
      new RegExp(
        `weft_mirror_requests_total\\{service="web",endpoint="127.0.0.1:${v2.port}",outcome="2xx"\\}`,
      ),
    ),
    2,
  );
});

test("a mirror never holds the client: copies to a subset that does not answer leave the requests as fast", async (t) => {
  const v1 = await recorder(t, "v1");
  const stuck = await recorder(t, "v2", true);
  const h = await setup(t, [endpoint(v1.port, { version: "v1" }), endpoint(stuck.port, { version: "v2" })]);
  await pushRoutes(h, [
    { split: [{ labels: { version: "v1" }, weight: 100 }], mirror: { labels: { version: "v2" }, ratio: 1 } },
  ]);
  for (let i = 0; i < 5; i++) {
    const r = await request(h.sidecar.ports.outbound, `/r${i}`, "POST", {}, `body ${i}`);
    t.is(r.body, "v1");
  }
  await waitUntil("five copies held", () => stuck.held.length === 5);
  t.deepEqual(
    stuck.seen.map((r) => r.body),
    ["body 0", "body 1", "body 2", "body 3", "body 4"],
  );
  t.is(metric(h, /^weft_mirror_requests_total\{/), 0, "no copy has ended yet");
});

test("a mirror's ratio copies that share; a body past the replay limit is not copied but counted", async (t) => {
  const v1 = await recorder(t, "v1");
  const v2 = await recorder(t, "v2");
  const h = await setup(t, [endpoint(v1.port, { version: "v1" }), endpoint(v2.port, { version: "v2" })]);
  await pushRoutes(h, [
    {
      split: [{ labels: { version: "v1" }, weight: 100 }],
      mirror: { labels: { version: "v2" }, ratio: 0.25 },
    },
  ]);
  for (let i = 0; i < 200; i++) await request(h.sidecar.ports.outbound, `/n${i}`);
  await new Promise((r) => setTimeout(r, 200));
  // 200 draws at 25%: mean 50, sd 6.1; [20, 80] is about 5 sd either way.
  t.true(v2.seen.length >= 20 && v2.seen.length <= 80, `${v2.seen.length} of 200 copied`);
  t.is(v1.seen.length, 200);

  await pushRoutes(h, [
    { split: [{ labels: { version: "v1" }, weight: 100 }], mirror: { labels: { version: "v2" }, ratio: 1 } },
  ]);
  const big = "x".repeat(70 * 1024);
  t.is((await request(h.sidecar.ports.outbound, "/big", "POST", {}, big)).body, "v1");
  t.is(v1.seen.at(-1)?.body.length, big.length);
  await waitUntil(
    "the skipped count",
    () => metric(h, /weft_mirror_requests_total\{.*outcome="skipped"/) === 1,
  );
  await new Promise((r) => setTimeout(r, 200)); // time for a copy that should not exist to arrive
  t.false(
    v2.seen.some((r) => r.path === "/big"),
    "a body the sidecar streamed is not copied",
  );
});

test("over h2c a request without a body is copied too, over h2c", async (t) => {
  const seen: http2.IncomingHttpHeaders[] = [];
  const h2server = async (name: string) => {
    const s = http2.createServer();
    s.on("stream", (stream, headers) => {
      seen.push({ ...headers, "x-replica": name });
      stream.respond({ ":status": 200 });
      stream.end(name);
    });
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    t.teardown(() => s.close());
    return (s.address() as AddressInfo).port;
  };
  const h = await setup(t, [
    endpoint(await h2server("v1"), { version: "v1" }),
    endpoint(await h2server("v2"), { version: "v2" }),
  ]);
  await pushRoutes(h, [
    { split: [{ labels: { version: "v1" }, weight: 100 }], mirror: { labels: { version: "v2" }, ratio: 1 } },
  ]);
  const headers = await h2Request(h.sidecar.ports.outbound, "/h2/path");
  t.is(Number(headers[":status"]), 200);
  await waitUntil("the copy", () => seen.length === 2);
  t.deepEqual(seen.map((s) => [s["x-replica"], s[":method"], s[":path"], s[":authority"]]).sort(), [
    ["v1", "GET", "/h2/path", "web"],
    ["v2", "GET", "/h2/path", "web-shadow"],
  ]);
  await waitUntil("the metric", () => metric(h, /^weft_mirror_requests_total\{.*outcome="2xx"/) === 1);
});
