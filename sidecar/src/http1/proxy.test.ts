// The lean HTTP/1.1 proxy end to end on loopback: real node:http upstreams and clients (raw sockets
// where framing matters), a fake route that always picks the same upstream.
import http from "node:http";
import { connect } from "node:net";
import test from "ava";
import { app, fakeRoute, raw, request, startProxy, until } from "./test-kit";

test("a request reaches the upstream with Via appended both ways, over one pooled upstream connection", async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const a = await app(t, (req, res) => {
    seen.push(req.headers);
    res.setHeader("via", "1.1 app-proxy");
    res.end(`hello ${req.url}`);
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  for (let i = 0; i < 3; i++) {
    const res = await request(h.port, { path: `/p${i}`, headers: { via: "1.0 client" } });
    t.is(res.status, 200);
    t.is(res.body.toString(), `hello /p${i}`);
    t.is(res.headers.via, "1.1 app-proxy, 1.1 shop (weft-inbound)");
  }
  t.is(seen[0]?.via, "1.0 client, 1.1 shop (weft-inbound)");
  t.is(seen[0]?.host, "web", "the client's Host is kept");
  t.is(seen[0]?.["x-forwarded-for"], "127.0.0.1");
  t.is(seen[0]?.["x-forwarded-proto"], "http");
  t.regex(String(seen[0]?.["x-request-id"]), /^[0-9a-f-]{36}$/);
  t.is(a.connections(), 1, "three client connections, one upstream connection");
  t.regex(
    h.metrics.render(),
    /weft_requests_total\{direction="inbound",service="web",code="200",route="r1"\} 3/,
  );
  await until(() => h.completed.length === 3, "onComplete");
  t.is(h.completed[0]?.upstream, `127.0.0.1:${a.port}`);
  t.is(h.completed[0]?.route, "r1");
  t.is(h.completed[0]?.bytesSent, "hello /p0".length);
  t.is(h.proxy.active, 0);
});

test("hop-by-hop fields are dropped both ways and a client's request id is kept", async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const a = await app(t, (req, res) => {
    seen.push(req.headers);
    res.setHeader("x-app-hop", "secret");
    res.setHeader("connection", "x-app-hop");
    res.end("ok");
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const answer = await raw(
    h.port,
    "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, x-secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nX-Kept: yes\r\nX-Request-Id: abc-1\r\n\r\n",
  );
  for (const gone of ["x-secret", "keep-alive", "te", "proxy-connection"])
    t.is(seen[0]?.[gone], undefined, gone);
  t.is(seen[0]?.["x-kept"], "yes");
  t.is(seen[0]?.["x-request-id"], "abc-1");
  t.regex(answer, /^HTTP\/1\.1 200 /);
  t.notRegex(answer, /x-app-hop/i);
  t.regex(answer, /\r\nconnection: close\r\n/i, "the client asked to close");
});

test("hooks see the request before it goes upstream and may add headers; onComplete once", async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const a = await app(t, (req, res) => {
    seen.push(req.headers);
    res.end("ok");
  });
  let requests = 0;
  const h = await startProxy(t, fakeRoute([a.port]), {
    hooks: {
      onRequest: (ctx) => {
        requests++;
        ctx.request.headers.push(["traceparent", "00-abc-def-01"]);
      },
    },
  });
  await request(h.port);
  t.is(requests, 1);
  t.is(seen[0]?.traceparent, "00-abc-def-01");
});

test("a refusal is answered with its status and message, with x-weft-overflow for an overflow", async (t) => {
  const h = await startProxy(
    t,
    fakeRoute([1], {
      refusal: { status: 503, message: "too many pending requests for web\n", overflow: "pending-requests" },
    }),
  );
  const res = await request(h.port);
  t.is(res.status, 503);
  t.is(res.body.toString(), "too many pending requests for web\n");
  // Traced as any request (the span says why it was answered here): the hooks ran once each.
  t.is(h.started.length, 1);
  t.is(h.completed[0]?.status, 503);
  t.is(res.headers["x-weft-overflow"], "pending-requests");
  t.is(res.headers.via, "1.1 shop (weft-inbound)");
  const none = await startProxy(
    t,
    fakeRoute([], { refusal: { status: 503, message: 'no healthy endpoints for service "web"\n' } }),
  );
  const res2 = await request(none.port);
  t.is(res2.status, 503);
  t.is(res2.headers["x-weft-overflow"], undefined);
  t.regex(none.metrics.render(), /code="503",route="r1"/);
});

test("HEAD, 204 and 304 answers carry no body and the connection stays usable", async (t) => {
  const a = await app(t, (req, res) => {
    if (req.url === "/204") return void res.writeHead(204).end();
    if (req.url === "/304") return void res.writeHead(304, { etag: '"x"' }).end();
    res.setHeader("content-length", "5");
    res.end(req.method === "HEAD" ? undefined : "hello");
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const text = await raw(
    h.port,
    "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  const heads = text.split(/(?=HTTP\/1\.1 )/);
  t.is(heads.length, 4, text);
  t.regex(heads[0] ?? "", /^HTTP\/1\.1 200 [\s\S]*content-length: 5\r\n[\s\S]*\r\n\r\n$/i);
  t.regex(heads[1] ?? "", /^HTTP\/1\.1 204 [\s\S]*\r\n\r\n$/);
  t.notRegex(heads[1] ?? "", /transfer-encoding/i);
  t.regex(heads[2] ?? "", /^HTTP\/1\.1 304 [\s\S]*\r\n\r\n$/);
  t.regex(heads[3] ?? "", /\r\n\r\nhello$/);
});

test("chunked bodies are re-chunked both ways with their trailers", async (t) => {
  let gotTrailers: NodeJS.Dict<string> = {};
  let gotBody = "";
  const a = await app(t, (req, res) => {
    req.on("data", (d) => (gotBody += d));
    req.on("end", () => {
      gotTrailers = req.trailers;
      res.writeHead(200, { trailer: "x-checksum" });
      res.write("part one, ");
      res.write("part two");
      res.addTrailers({ "x-checksum": "42" });
      res.end();
    });
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const text = await raw(
    h.port,
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Sum: 7\r\n\r\n",
  );
  t.is(gotBody, "abcdefg");
  t.is(gotTrailers["x-sum"], "7");
  t.regex(text, /transfer-encoding: chunked/i);
  t.regex(text, /\r\n\r\na\r\npart one, \r\n8\r\npart two\r\n0\r\nx-checksum: 42\r\n\r\n$/i);
});

test("a bodyless GET gets no chunked framing upstream; a POST without length gets content-length: 0", async (t) => {
  const heads: string[] = [];
  const a = await app(t, (_req, res) => res.end("ok"));
  a.server.on("connection", (s) => s.on("data", (d: Buffer) => heads.push(d.toString("latin1"))));
  const h = await startProxy(t, fakeRoute([a.port]));
  await raw(
    h.port,
    "GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  const all = heads.join("");
  t.notRegex(all, /transfer-encoding/i);
  t.regex(all, /^GET [\s\S]*\r\n\r\nPOST [\s\S]*content-length: 0\r\n/i);
  t.notRegex(all.split("POST")[0] ?? "", /content-length/i);
});

test("a response without length ends at upstream close, and the client connection closes too", async (t) => {
  const a = await app(t, (req, res) => {
    res.socket?.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end");
    res.socket?.end();
    req.resume();
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const text = await raw(h.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  t.regex(text, /^HTTP\/1\.1 200 [\s\S]*\r\n\r\nuntil the end$/);
  t.regex(text, /\r\nconnection: close\r\n/i);
});

test("keep-alive: upstream connections are reused, and closed after maxRequestsPerConnection", async (t) => {
  const a = await app(t, (_req, res) => res.end("ok"));
  const h = await startProxy(t, fakeRoute([a.port], { maxRequestsPerConnection: 2 }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  for (let i = 0; i < 6; i++) t.is((await request(h.port, { agent })).status, 200);
  t.is(a.connections(), 3, "six requests, two per upstream connection");
  const b = await app(t, (_req, res) => res.end("ok"));
  const h2 = await startProxy(t, fakeRoute([b.port]));
  for (let i = 0; i < 6; i++) await request(h2.port, { agent });
  t.is(b.connections(), 1);
  t.is(h2.proxy.pooledConnections, 1);
});

test("an upstream answering Connection: close is not reused", async (t) => {
  const a = await app(t, (_req, res) => {
    res.setHeader("connection", "close");
    res.end("ok");
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  await request(h.port);
  await request(h.port);
  t.is(a.connections(), 2);
});

test("pipelined requests are answered one at a time, in order", async (t) => {
  let inFlight = 0;
  let most = 0;
  const a = await app(t, (req, res) => {
    inFlight++;
    most = Math.max(most, inFlight);
    // The first is the slowest: answers in order prove the proxy did not run them side by side.
    setTimeout(
      () => {
        inFlight--;
        res.end(`answer ${req.url}`);
      },
      req.url === "/1" ? 150 : 5,
    );
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  let pipeline = "";
  for (let i = 1; i <= 5; i++)
    pipeline += `GET /${i} HTTP/1.1\r\nHost: a\r\n${i === 5 ? "Connection: close\r\n" : ""}\r\n`;
  pipeline += "";
  const text = await raw(h.port, pipeline);
  const bodies = [...text.matchAll(/answer \/(\d)/g)].map((m) => m[1]);
  t.deepEqual(bodies, ["1", "2", "3", "4", "5"]);
  t.is(most, 1);
});

test("a pipelined pair ending a packet keeps the connection alive for the next request", async (t) => {
  const a = await app(t, (req, res) => res.end(`answer ${req.url}`));
  const h = await startProxy(t, fakeRoute([a.port]));
  const text = await new Promise<string>((resolve, reject) => {
    let out = "";
    const c = connect(h.port, "127.0.0.1", () =>
      c.write("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"),
    );
    let sentThird = false;
    c.on("data", (d) => {
      out += d;
      if (!sentThird && out.includes("answer /2")) {
        sentThird = true;
        t.notRegex(out, /connection: close/i);
        c.write("GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      }
    });
    c.on("close", () => resolve(out));
    c.on("error", reject);
  });
  t.deepEqual(
    [...text.matchAll(/answer \/(\d)/g)].map((m) => m[1]),
    ["1", "2", "3"],
  );
});

test("a drain lets the request in flight finish with Connection: close and closes idle connections", async (t) => {
  let started = 0;
  const a = await app(t, (_req, res) => {
    started++;
    setTimeout(() => res.end("slow"), 200);
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const idleClosed = raw(h.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", /slow$/);
  await idleClosed;
  const answer = raw(h.port, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  await until(() => started === 2, "the request upstream");
  h.proxy.startDrain();
  const text = await answer;
  t.regex(text, /^HTTP\/1\.1 200 /);
  t.regex(text, /\r\nconnection: close\r\n/i);
  t.is(h.proxy.active, 0);
});

test("Expect: 100-continue is passed through: the upstream's 100 reaches the client", async (t) => {
  const a = await app(t, (req, res) => {
    let n = 0;
    req.on("data", (d: Buffer) => (n += d.length));
    req.on("end", () => res.end(`got ${n}`));
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const res = await new Promise<{ continued: boolean; body: string }>((resolve, reject) => {
    let continued = false;
    const req = http.request({
      host: "127.0.0.1",
      port: h.port,
      method: "PUT",
      headers: { host: "web", expect: "100-continue", "content-length": "5" },
      agent: false,
    });
    req.on("continue", () => {
      continued = true;
      req.end("hello");
    });
    req.on("response", (r) => {
      let body = "";
      r.on("data", (d) => (body += d));
      r.on("end", () => resolve({ continued, body }));
    });
    req.on("error", reject);
  });
  t.true(res.continued);
  t.is(res.body, "got 5");
});

test("an idle pooled upstream connection is closed by the proxy before the app's keep-alive would", async (t) => {
  const a = await app(t, (_req, res) => res.end("ok"));
  // The app would keep it a minute: a close can only be the proxy's (after 4 s idle).
  a.server.keepAliveTimeout = 60_000;
  let closed = false;
  a.server.on("connection", (s) => s.on("close", () => (closed = true)));
  const h = await startProxy(t, fakeRoute([a.port]));
  await request(h.port);
  await until(() => h.proxy.pooledConnections === 1, "a pooled connection");
  await until(() => closed, "the pooled connection to close", 10_000);
  t.is(h.proxy.pooledConnections, 0);
});
