// Request smuggling and slow clients against the lean proxy: every shape guard.ts and strict llhttp
// refuse gets 400 (431 for an oversized head) and never reaches the app; slow heads get 408.
import http from "node:http";
import { createServer, type Socket } from "node:net";
import test from "ava";
import { app, fakeRoute, listen, raw, SMUGGLING, startProxy } from "./test-kit";

test("request-smuggling shapes get 400 with Connection: close and nothing reaches the app", async (t) => {
  let appBytes = "";
  const a = await app(t, (_req, res) => res.end("ok"));
  a.server.on("connection", (s) => s.on("data", (d: Buffer) => (appBytes += d.toString("latin1"))));
  const h = await startProxy(t, fakeRoute([a.port]));
  for (const [name, request] of SMUGGLING) {
    const answer = await raw(h.port, request);
    t.regex(answer, /^HTTP\/1\.1 400 /, `${name}: ${JSON.stringify(answer.slice(0, 200))}`);
    t.regex(answer, /\r\nconnection: close\r\n/, name);
    t.regex(answer, /\r\n\r\nbad request: .+\n$/, name);
  }
  t.is(appBytes, "", "the app saw no byte of any of them");
  const ok = await raw(h.port, "GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  t.regex(ok, /^HTTP\/1\.1 200 /);
});

test("a malformed request pipelined after a good one is refused once the good one is answered", async (t) => {
  const a = await app(t, (_req, res) => setTimeout(() => res.end("first"), 50));
  const h = await startProxy(t, fakeRoute([a.port]));
  const text = await raw(
    h.port,
    "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc",
  );
  t.regex(text, /^HTTP\/1\.1 200 [\s\S]*first(HTTP\/1\.1 400 [\s\S]*)$/);
});

test("an HTTP/1.0 request without Host reaches the app with the route's authority as its Host", async (t) => {
  const hosts: Array<string | undefined> = [];
  const a = await app(t, (req, res) => {
    hosts.push(req.headers.host);
    res.end("fine");
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  // Upstream it becomes HTTP/1.1, and Node answers an HTTP/1.1 request without Host with 400.
  const answer = await raw(h.port, "GET /old HTTP/1.0\r\n\r\n");
  t.regex(answer, /^HTTP\/1\.1 200 [\s\S]*fine$/);
  const kept = await raw(h.port, "GET /old HTTP/1.0\r\nHost: mine\r\n\r\n");
  t.regex(kept, /^HTTP\/1\.1 200 /);
  t.deepEqual(hosts, ["web:80", "mine"], "a Host the client sent is kept");
  t.is(h.completed[0]?.request.authority, "web:80", "spans and access logs name it too");
});

test("a head over 16 KiB gets 431", async (t) => {
  const a = await app(t, (_req, res) => res.end("ok"));
  const h = await startProxy(t, fakeRoute([a.port]));
  const answer = await raw(h.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"b".repeat(17 * 1024)}\r\n\r\n`);
  t.regex(answer, /^HTTP\/1\.1 431 /);
  // Just under the limit passes.
  const fine = await raw(
    h.port,
    `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"b".repeat(15 * 1024)}\r\nConnection: close\r\n\r\n`,
  );
  t.regex(fine, /^HTTP\/1\.1 200 /);
});

test("a client that does not finish its head in time gets 408 and is closed; idle ones are closed", async (t) => {
  let appBytes = "";
  const a = await app(t, (_req, res) => res.end("ok"));
  a.server.on("connection", (s) => s.on("data", (d: Buffer) => (appBytes += d.toString("latin1"))));
  const h = await startProxy(t, fakeRoute([a.port]), { headerTimeoutMs: 300, idleTimeoutMs: 600 });
  const answer = await raw(h.port, "GET / HTTP/1.1\r\nHost: a\r\n");
  t.regex(answer, /^HTTP\/1\.1 408 /);
  t.regex(answer, /request headers not received in time/);
  t.is(appBytes, "");
  // A keep-alive connection that then says nothing is closed by the keep-alive timeout.
  const kept = await raw(h.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  t.regex(kept, /^HTTP\/1\.1 200 [\s\S]*ok$/);
});

test("HTTP/1.0 clients get no chunked framing: the body ends with the connection", async (t) => {
  const a = await app(t, (_req, res) => {
    res.write("one ");
    res.end("two");
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const text = await raw(h.port, "GET / HTTP/1.0\r\nHost: a\r\n\r\n");
  t.regex(text, /^HTTP\/1\.1 200 /);
  t.notRegex(text, /transfer-encoding/i);
  t.regex(text, /\r\n\r\none two$/);
});

test("an app's oversized or malformed response becomes a 502 naming the upstream", async (t) => {
  const a = await app(t, (req, res) => {
    req.resume();
    res.socket?.end("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc");
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const text = await raw(h.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  t.regex(text, /^HTTP\/1\.1 502 /);
  t.regex(text, new RegExp(`upstream 127\\.0\\.0\\.1:${a.port} for web failed`));
  void http;
});

test("an app that switches protocols unasked gets a 502, and what it sends after is nobody's answer", async (t) => {
  // RFC 9110 §15.2.2: a 101 only answers a request with Upgrade. Relayed, the client (which cannot
  // speak whatever follows) read the app's next bytes as the rest of its answer.
  const sockets: Socket[] = [];
  const upstream = createServer((s) => {
    sockets.push(s);
    s.on("error", () => undefined);
    s.once("data", () =>
      s.end(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n" +
          "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged",
      ),
    );
  });
  const port = await listen(upstream);
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    upstream.close();
  });
  const h = await startProxy(t, fakeRoute([port]));
  const text = await raw(h.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  t.regex(text, /^HTTP\/1\.1 502 /);
  t.regex(text, /switched protocols \(101\) though the request asked for no upgrade/);
  t.notRegex(text, /forged/);
  t.regex(h.metrics.render(), /weft_requests_total\{[^}]*code="502"[^}]*\} 1/);
});

test("an app whose response lines end in a bare LF (busybox CGI) is understood; requests stay strict", async (t) => {
  const appServer = createServer((s) =>
    s.once("data", () => s.end("HTTP/1.0 200 OK\nContent-Type: text/plain\nContent-Length: 5\n\nhello")),
  );
  const port = await listen(appServer);
  t.teardown(() => appServer.close());
  const h = await startProxy(t, fakeRoute([port]));
  const answer = await raw(h.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  t.regex(answer, /^HTTP\/1\.1 200 /);
  t.regex(answer, /\r\n\r\nhello$/);
});
