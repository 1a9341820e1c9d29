// The RequestPlan loop in the lean proxy: retries (only while replayable), per-try and
// whole-request timeouts, injected faults, and exactly one ended() per next().
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import test from "ava";
import { refusingPort } from "../testing/refusing-port";
import { app, fakeRoute, listen, raw, request, slowToReadyDial, startProxy, until } from "./test-kit";

test("a GET answered 503 by the first target goes to the second", async (t) => {
  const bad = await app(t, (_req, res) => res.writeHead(503).end("sick"));
  const good = await app(t, (_req, res) => res.end("fine"));
  const route = fakeRoute([bad.port, good.port], { attempts: 2 });
  const h = await startProxy(t, route);
  const res = await request(h.port);
  t.is(res.status, 200);
  t.is(res.body.toString(), "fine");
  t.deepEqual(
    route.ended.map((e) => [e.outcome.kind, e.replayable]),
    [
      ["response", true],
      ["response", true],
    ],
  );
  t.is(route.nexts, 2);
  t.regex(h.metrics.render(), /code="200",route="r1"\} 1/);
});

test("a refused connection is a connect failure and the request goes to the next target", async (t) => {
  const good = await app(t, (_req, res) => res.end("fine"));
  const route = fakeRoute([await refusingPort(), good.port], { attempts: 2 });
  const h = await startProxy(t, route);
  const res = await request(h.port);
  t.is(res.body.toString(), "fine");
  t.is(route.ended[0]?.outcome.kind, "connect-failure");
});

test("a POST body up to 64 KiB is replayed byte for byte after a connect failure", async (t) => {
  let got = "";
  const good = await app(t, (req, res) => {
    const hash = createHash("sha256");
    req.on("data", (d: Buffer) => hash.update(d));
    req.on("end", () => {
      got = hash.digest("hex");
      res.end("stored");
    });
  });
  const route = fakeRoute([await refusingPort(), good.port], { attempts: 2 });
  const h = await startProxy(t, route);
  const body = Buffer.alloc(60 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 251;
  const res = await request(h.port, { method: "POST", body });
  t.is(res.status, 200);
  t.is(got, createHash("sha256").update(body).digest("hex"));
  t.true(route.ended[0]?.replayable);
  // Chunked too: the replay is re-chunked from the kept copy.
  const chunked = await raw(
    h.port,
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  );
  t.regex(chunked, /stored$/);
  t.is(got, createHash("sha256").update("hello").digest("hex"));
});

test("a POST body over 64 KiB is not replayable: a connect failure is a 503 naming the upstream", async (t) => {
  const dead = await refusingPort();
  const route = fakeRoute([dead, dead], { attempts: 2 });
  const h = await startProxy(t, route);
  const res = await request(h.port, { method: "POST", body: Buffer.alloc(200 * 1024, 1) });
  // As flow.ts (plan-run.ts): 503 when no connection could be made, so the caller may go elsewhere.
  t.is(res.status, 503);
  t.regex(
    res.body.toString(),
    new RegExp(`^upstream connect error: 127\\.0\\.0\\.1:${dead} for web: .*ECONNREFUSED`),
  );
  t.is(route.ended.length, 1);
  t.false(route.ended[0]?.replayable);
});

test("a response that already started streaming is never retried", async (t) => {
  const a = await app(t, (_req, res) => {
    res.writeHead(200, { "content-length": "100" });
    res.write("partial");
    setTimeout(() => res.socket?.destroy(), 50);
  });
  const other = await app(t, (_req, res) => res.end("other"));
  const route = fakeRoute([a.port, other.port], { attempts: 3 });
  const h = await startProxy(t, route);
  const text = await raw(h.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  t.regex(text, /^HTTP\/1\.1 200 [\s\S]*partial$/, "cut off, not followed by another answer");
  t.is(route.nexts, 1);
  t.is(route.ended.length, 1);
  t.is(other.connections(), 0);
});

test("a per-try timeout is a 'timeout' outcome, retried on the next target", async (t) => {
  const slow = await app(t, (_req, res) => setTimeout(() => res.end("late"), 2000));
  const fast = await app(t, (_req, res) => res.end("fast"));
  const route = fakeRoute([slow.port, fast.port], { attempts: 2, perTryTimeoutMs: 100 });
  const h = await startProxy(t, route);
  const res = await request(h.port);
  t.is(res.body.toString(), "fast");
  t.is(route.ended[0]?.outcome.kind, "timeout");
  const alone = await startProxy(t, fakeRoute([slow.port], { perTryTimeoutMs: 100 }));
  const res2 = await request(alone.port);
  t.is(res2.status, 504);
  t.is(res2.body.toString(), "upstream request timeout\n");
});

test("the whole-request timeout answers 504, reports the attempt as cancelled, and asks nothing more", async (t) => {
  const slow = await app(t, (_req, res) => setTimeout(() => res.end("late"), 2000));
  const route = fakeRoute([slow.port, slow.port], { attempts: 5, timeoutMs: 150 });
  const h = await startProxy(t, route);
  const res = await request(h.port);
  t.is(res.status, 504);
  t.is(res.body.toString(), "upstream request timeout\n");
  t.deepEqual(
    route.ended.map((e) => e.outcome.kind),
    ["cancelled"],
  );
  t.is(route.nexts, 1);
  t.regex(h.metrics.render(), /code="504"/);
});

test("an injected abort answers its status without going upstream; a delay holds the request first", async (t) => {
  const a = await app(t, (_req, res) => res.end("ok"));
  const aborted = await startProxy(t, fakeRoute([a.port], { fault: { delayMs: 0, abortStatus: 418 } }));
  const res = await request(aborted.port);
  t.is(res.status, 418);
  t.is(res.body.toString(), "fault injected by the route\n");
  t.is(res.headers["x-weft-fault"], "abort");
  t.is(a.connections(), 0);
  const route = fakeRoute([a.port], { fault: { delayMs: 200, abortStatus: 0 } });
  const delayed = await startProxy(t, route);
  const pending = request(delayed.port);
  await new Promise((r) => setTimeout(r, 50));
  t.is(route.nexts, 0, "no attempt during the delay");
  t.is((await pending).status, 200);
  t.is(route.nexts, 1);
});

test("a client that goes away mid-request is 499 and its attempt ends as cancelled", async (t) => {
  const a = await app(t, (_req, res) => setTimeout(() => res.end("late"), 3000));
  const route = fakeRoute([a.port]);
  const h = await startProxy(t, route);
  void raw(h.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", /never/).catch(() => {});
  await until(() => h.proxy.active === 1, "the request in flight");
  h.proxy.closeIdle(); // not idle: stays
  t.is(h.proxy.active, 1);
  // Cut the client off by closing every client connection.
  h.proxy.close();
  await until(() => route.ended.length === 1, "ended()");
  t.is(route.ended[0]?.outcome.kind, "cancelled");
  t.regex(h.metrics.render(), /code="499"/);
  t.is(h.proxy.active, 0);
});

test("a pooled upstream connection that turns out dead on reuse is a reset, retried on a fresh one", async (t) => {
  // An app that answers the first request on each connection and drops the connection the moment
  // a second one arrives on it, before any response byte.
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    let requests = 0;
    s.on("data", (d: Buffer) => {
      if (!d.toString("latin1").includes("\r\n\r\n")) return;
      requests++;
      if (requests > 1) return void s.resetAndDestroy();
      s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    });
    s.on("error", () => {});
  });
  const port = await listen(server);
  t.teardown(() => server.close());
  const route = fakeRoute([port], { attempts: 2 });
  const h = await startProxy(t, route);
  t.is((await request(h.port)).status, 200);
  await until(() => h.proxy.pooledConnections === 1, "a pooled connection");
  const res = await request(h.port);
  t.is(res.status, 200);
  t.is(res.body.toString(), "ok");
  t.is(route.ended[1]?.outcome.kind, "reset");
  t.true(route.ended[1]?.replayable);
  t.is(connections, 2);
});

test("an attempt's latency, which load balancing learns from, leaves out the connection's setup", async (t) => {
  // A new upstream connection that is slow to become ready (a TLS handshake with the endpoint's
  // sidecar after the pooled one idled out): the endpoint answers at once all the same. Counted in,
  // every first request after a pause made an idle endpoint look slow, so the balancer kept
  // sending everything to the busy one (two equal endpoints at 5 req/s: 2-9% for one of them).
  const upstream = await app(t, (_req, res) => res.end("fine"));
  const SETUP_MS = 300;
  const route = fakeRoute([upstream.port]);
  const h = await startProxy(t, route, { dial: slowToReadyDial(SETUP_MS) });
  const started = performance.now();
  t.is((await request(h.port)).status, 200);
  t.true(performance.now() - started >= SETUP_MS, "the request waited for the connection");
  const outcome = route.ended[0]?.outcome;
  t.is(outcome?.kind, "response");
  t.true(
    outcome?.kind === "response" && outcome.latencyMs < SETUP_MS / 2,
    `latency ${outcome?.kind === "response" ? outcome.latencyMs : "-"} ms counts the setup`,
  );
});
