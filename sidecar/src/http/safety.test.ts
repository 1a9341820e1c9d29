// HTTP/1.1 correctness and safety through a sidecar pair, with raw sockets where a well-behaved
// client would not send what an attacker does: smuggling shapes get 400 and never reach the app;
// hop-by-hop fields are dropped; X-Forwarded-*, X-Request-Id are set; big bodies stream through;
// slow headers time out; a drain answers with Connection: close.
import { createHash } from "node:crypto";
import http from "node:http";
import { type AddressInfo, connect } from "node:net";
import test, { type ExecutionContext } from "ava";
import { hashStream, SMUGGLING, writeChunks } from "../http1/test-kit";
import { type PairOptions, startPair } from "../testing/pair";

interface App {
  port: number;
  requests: http.IncomingHttpHeaders[];
  /** Raw bytes the app received on any connection. */
  raw: () => string;
}

async function app(t: ExecutionContext): Promise<App> {
  const requests: http.IncomingHttpHeaders[] = [];
  let raw = "";
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    void hashStream(req).then(({ size, sha }) => {
      res.setHeader("x-app-hop", "secret");
      res.setHeader("connection", "x-app-hop");
      const body = JSON.stringify({ size, sha, headers: req.headers });
      setTimeout(() => res.end(body), req.url === "/slow" ? 400 : 0);
    });
  });
  server.on("connection", (s) => s.on("data", (d: Buffer) => (raw += d.toString("latin1"))));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, requests, raw: () => raw };
}

async function pair(t: ExecutionContext, a: App, extra: Partial<PairOptions> = {}) {
  const p = await startPair({ appPort: a.port, protocol: "http", ...extra });
  t.teardown(() => p.close());
  return p;
}

/** Writes raw bytes and reads until the sidecar closes (or `until` matches). */
function raw(port: number, data: string, until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const c = connect(port, "127.0.0.1", () => c.write(data));
    c.setTimeout(10_000, () => c.destroy(new Error(`no answer; got ${JSON.stringify(out)}`)));
    c.on("data", (d) => {
      out += d;
      if (until?.test(out)) c.destroy();
    });
    c.on("close", () => resolve(out));
    c.on("error", reject);
  });
}

test("request-smuggling shapes get 400 and nothing reaches the app", async (t) => {
  const a = await app(t);
  const p = await pair(t, a);
  for (const [name, request] of SMUGGLING) {
    const answer = await raw(p.port, request);
    t.regex(answer, /^HTTP\/1\.1 400 /, `${name}: ${JSON.stringify(answer.slice(0, 200))}`);
  }
  t.is(a.raw(), "", "the app saw no byte of any of them");
  // A good request on the same pair still works.
  const ok = await raw(p.port, "GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  t.regex(ok, /^HTTP\/1\.1 200 /);
});

test("an HTTP/1.0 request without Host crosses both sidecars and reaches the app with the service's name", async (t) => {
  const a = await app(t);
  const p = await pair(t, a);
  // Without one, the outbound sidecar's HTTP/1.1 request had no Host, and the inbound one refused it.
  const answer = await raw(p.port, "GET /old HTTP/1.0\r\n\r\n");
  t.regex(answer, /^HTTP\/1\.1 200 /);
  t.is(a.requests[0]?.host, "server:80");
});

test("hop-by-hop fields are dropped both ways; X-Forwarded-For, -Proto and X-Request-Id are set", async (t) => {
  const a = await app(t);
  const p = await pair(t, a);
  const answer = await raw(
    p.port,
    "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, x-secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nX-Kept: yes\r\n\r\n",
  );
  const seen = a.requests[0] ?? {};
  for (const gone of ["x-secret", "keep-alive", "te", "proxy-connection"]) t.is(seen[gone], undefined, gone);
  t.is(seen["x-kept"], "yes");
  t.is(seen["x-forwarded-for"], "127.0.0.1", "the inbound side records the caller");
  t.is(seen["x-forwarded-proto"], "http");
  t.regex(String(seen["x-request-id"]), /^[0-9a-f-]{36}$/);
  t.notRegex(answer, /x-app-hop/i, "the app's Connection-listed field is dropped on the way back");
  // A request id the client set is kept.
  await raw(p.port, "GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc-1\r\nConnection: close\r\n\r\n");
  t.is(a.requests[1]?.["x-request-id"], "abc-1");
});

test("a 64 MB upload and download stream through with their bytes intact", async (t) => {
  const a = await app(t);
  const p = await pair(t, a);
  const chunk = Buffer.alloc(1 << 20, 7);
  const expected = createHash("sha256");
  for (let i = 0; i < 64; i++) expected.update(chunk);
  const body = await new Promise<string>((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: p.port, method: "POST", path: "/up", headers: { host: "a" }, agent: false },
      (res) => {
        let out = "";
        res.on("data", (d) => (out += d));
        res.on("end", () => resolve(out));
      },
    );
    req.on("error", reject);
    // Writes wait for 'drain': the sidecars' backpressure paces the client.
    writeChunks(req, chunk, 64);
  });
  const parsed = JSON.parse(body) as { size: number; sha: string };
  t.is(parsed.size, 64 << 20);
  t.is(parsed.sha, expected.digest("hex"));
});

test("a client that does not finish its headers in time gets 408 and is closed", async (t) => {
  const a = await app(t);
  const p = await pair(t, a, { options: { headerTimeoutMs: 300 } });
  const answer = await raw(p.port, "GET / HTTP/1.1\r\nHost: a\r\n");
  t.regex(answer, /^HTTP\/1\.1 408 /);
  t.is(a.raw(), "");
});

test("a drain lets the request in flight finish with Connection: close, then refuses new ones", async (t) => {
  const a = await app(t);
  const p = await pair(t, a);
  const answer = raw(p.port, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  const deadline = Date.now() + 5000;
  while (a.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const drained = p.client.drain(5000);
  const text = await answer;
  t.regex(text, /^HTTP\/1\.1 200 /);
  t.regex(text, /\r\nconnection: close\r\n/i);
  await drained;
  await t.throwsAsync(raw(p.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), { message: /ECONNREFUSED/ });
});
