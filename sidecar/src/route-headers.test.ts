// A Route rule's header modifiers and rewrite through a real sidecar (its outbound listener, routing
// layer and both HTTP proxies), config from a fake control plane over the real stream: the upstream
// sees the request's changes (headers, path, authority), the caller the response's or the route's
// redirect; a rule that does not match changes nothing; a modifier naming a field the sidecar owns, or a prefix rewrite on
// a rule without a prefix match, is NACKed and the last good routes stay.
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import test, { type ExecutionContext } from "ava";
import type { RouteRule } from "../../proto/gen/weft/v1/RouteRule";
import { type Harness, startHarness } from "./testing/harness";
import { pushRoutes } from "./testing/push-routes";

const web = { name: "web", virtual_ip: "10.96.0.10", ports: [{ name: "http", port: 80, protocol: "http" }] };

const RULES: RouteRule[] = [
  {
    match: { path_prefix: "/edited" },
    headers: {
      request: { set: { "x-tenant": "blue" }, add: { "x-tag": "route" }, remove: ["x-secret"] },
      response: {
        set: { "cache-control": "no-store" },
        add: { "x-route": "edited" },
        remove: ["x-internal"],
      },
    },
  },
  {},
];

async function setup(t: ExecutionContext, port: number, rules: RouteRule[]): Promise<Harness> {
  const h = await startHarness(t);
  await h.configure([web], {
    web: [
      {
        id: "web-1",
        service: "web",
        address: "127.0.0.1",
        ports: [{ name: "http", port, protocol: "http" }],
        labels: {},
        healthy: true,
      },
    ],
  });
  h.destination = { address: "10.96.0.10", port: 80 };
  await h.whenReady();
  await pushRoutes(h, rules, 1);
  return h;
}

/** What the upstream saw, and the headers it answers with (x-internal among them). */
type Seen = Record<string, string | string[] | undefined>;
const RESPONSE = { "content-type": "text/plain", "x-internal": "1", "cache-control": "max-age=60" };

test("HTTP/1.1: the request's and the response's headers change as the matching rule says", async (t) => {
  const seen: Seen[] = [];
  const upstream = http.createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, RESPONSE);
    res.end("ok");
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => upstream.close());
  const h = await setup(t, (upstream.address() as AddressInfo).port, RULES);
  const get = (path: string) =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(
          {
            host: "127.0.0.1",
            port: h.sidecar.ports.outbound,
            path,
            agent: false,
            headers: { host: "web", "x-secret": "s3cret", "x-tenant": "red", "x-tag": "client" },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res));
          },
        )
        .on("error", reject);
    });
  const edited = await get("/edited/x");
  t.like(seen[0], { "x-tenant": "blue", "x-tag": "client, route", "x-secret": undefined });
  t.like(edited.headers, { "cache-control": "no-store", "x-route": "edited", "x-internal": undefined });
  const plain = await get("/other");
  t.like(seen[1], { "x-tenant": "red", "x-tag": "client", "x-secret": "s3cret" });
  t.like(plain.headers, { "cache-control": "max-age=60", "x-internal": "1", "x-route": undefined });

  // A rule that would change the sidecar's own framing is refused; the routes in force stay.
  const refused = await pushRoutes(
    h,
    [{ headers: { request: { set: { "transfer-encoding": "gzip" } } } }],
    2,
  );
  t.regex(
    refused ?? "",
    /rules\[0\]\.headers\.request\.set\.transfer-encoding: "transfer-encoding" is the sidecar's to write/,
  );
  t.is((await get("/edited/y")).headers["x-route"], "edited");
});

test("HTTP/2: the same changes on an h2c exchange", async (t) => {
  const seen: Seen[] = [];
  const upstream = http2.createServer();
  upstream.on("stream", (stream, headers) => {
    seen.push(headers);
    stream.respond({ ":status": 200, ...RESPONSE });
    stream.end("ok");
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => upstream.close());
  const h = await setup(t, (upstream.address() as AddressInfo).port, RULES);
  const session = http2.connect(`http://127.0.0.1:${h.sidecar.ports.outbound}`);
  t.teardown(() => session.close());
  const request = (path: string) =>
    new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const req = session.request({
        ":path": path,
        ":authority": "web",
        "x-secret": "s3cret",
        "x-tenant": "red",
      });
      req.on("response", (headers) => {
        req.resume();
        req.on("end", () => resolve(headers));
      });
      req.on("error", reject);
      req.end();
    });
  const edited = await request("/edited");
  t.like(seen[0], { "x-tenant": "blue", "x-tag": "route", "x-secret": undefined });
  t.like(edited, { "cache-control": "no-store", "x-route": "edited", "x-internal": undefined });
  const plain = await request("/other");
  t.like(seen[1], { "x-tenant": "red", "x-secret": "s3cret" });
  t.like(plain, { "cache-control": "max-age=60", "x-internal": "1" });
});

const REWRITES: RouteRule[] = [
  { match: { path_prefix: "/api" }, rewrite: { path_prefix: "/", authority: "web.internal:8080" } },
  { match: { path_exact: "/old" }, rewrite: { path: "/new" } },
  { match: { path_prefix: "/moved" }, redirect: { path_prefix: "/here", status: 308 } },
  { match: { path_exact: "/login" }, redirect: { scheme: "https", authority: "auth.example" } },
  {},
];

/** A node:http upstream that records each request's target and Host; its port. */
async function targetRecorder(t: ExecutionContext, seen: string[]): Promise<number> {
  const upstream = http.createServer((req, res) => {
    seen.push(`${req.headers.host} ${req.url}`);
    res.end("ok");
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => upstream.close());
  return (upstream.address() as AddressInfo).port;
}

test("HTTP/1.1: a rule's rewrite replaces the matched prefix or the whole path, and the authority; the query stays; a redirect is answered", async (t) => {
  const seen: string[] = [];
  const h = await setup(t, await targetRecorder(t, seen), REWRITES);
  const head = (path: string) =>
    new Promise<[number, string | undefined]>((resolve, reject) => {
      http
        .get(
          { host: "127.0.0.1", port: h.sidecar.ports.outbound, path, agent: false, headers: { host: "web" } },
          (res) => {
            res.resume();
            res.on("end", () => resolve([res.statusCode ?? 0, res.headers.location]));
          },
        )
        .on("error", reject);
    });
  const get = async (path: string) => (await head(path))[0];
  for (const path of ["/api/items?page=2", "/api", "/old?q=1", "/older", "/other"])
    t.is(await get(path), 200);
  // Redirects are answered by the sidecar: the upstream sees neither request.
  t.deepEqual(await head("/moved/a?b=1"), [308, "http://web/here/a?b=1"]);
  t.deepEqual(await head("/login"), [301, "https://auth.example/login"]);
  t.deepEqual(seen, [
    "web.internal:8080 /items?page=2",
    "web.internal:8080 /",
    "web /new?q=1",
    "web /older",
    "web /other",
  ]);

  // A prefix rewrite needs a prefix to replace: NACKed, and the routes in force stay.
  const refused = await pushRoutes(h, [{ rewrite: { path_prefix: "/v2" } }], 2);
  t.regex(refused ?? "", /rules\[0\]\.rewrite: pathPrefix replaces the prefix the rule matched/);
  t.is(await get("/api/x"), 200);
  t.is(seen.at(-1), "web.internal:8080 /x");
});

test("HTTP/2: a rule's rewrite changes :path and :authority; a redirect is answered", async (t) => {
  const seen: string[] = [];
  const upstream = http2.createServer();
  upstream.on("stream", (stream, headers) => {
    seen.push(`${headers[":authority"]} ${headers[":path"]}`);
    stream.respond({ ":status": 200 });
    stream.end("ok");
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => upstream.close());
  const h = await setup(t, (upstream.address() as AddressInfo).port, REWRITES);
  const session = http2.connect(`http://127.0.0.1:${h.sidecar.ports.outbound}`);
  t.teardown(() => session.close());
  const request = (path: string) =>
    new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const req = session.request({ ":path": path, ":authority": "web" });
      req.on("response", (headers) => {
        req.resume();
        req.on("end", () => resolve(headers));
      });
      req.on("error", reject);
      req.end();
    });
  for (const path of ["/api/items?page=2", "/old", "/other"]) await request(path);
  t.like(await request("/moved"), { ":status": 308, location: "http://web/here" });
  t.deepEqual(seen, ["web.internal:8080 /items?page=2", "web /new", "web /other"]);
});
