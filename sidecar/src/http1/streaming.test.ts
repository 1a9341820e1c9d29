// Big bodies and upgrades through the lean proxy: 10 MB each way against a slow reader stays
// bounded in the proxy's memory (backpressure, not buffering), and a WebSocket-style upgrade is
// piped raw both ways after the 101.
import { createHash } from "node:crypto";
import http from "node:http";
import type { Socket } from "node:net";
import test from "ava";
import { app, fakeRoute, hashStream, raw, startProxy, writeChunks } from "./test-kit";

const MB = 1 << 20;
/** The most the proxy may hold for one exchange: socket buffers plus a chunk or two, and the replay copy. */
const BOUND = 512 * 1024;

function sampler(read: () => number): { stop: () => number } {
  let most = 0;
  const timer = setInterval(() => {
    most = Math.max(most, read());
  }, 2);
  return {
    stop: () => {
      clearInterval(timer);
      return most;
    },
  };
}

test("a 10 MB upload to a slow reader streams through with bounded proxy memory and intact bytes", async (t) => {
  // The app reads slowly (a pause after every 256 KB) and answers with what it got.
  const a = await app(t, (req, res) => {
    void hashStream(req, true).then((got) => res.end(JSON.stringify(got)));
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const chunk = Buffer.alloc(MB, 9);
  const expected = createHash("sha256");
  for (let i = 0; i < 10; i++) expected.update(chunk);
  const watch = sampler(() => h.proxy.bufferedBytes());
  const body = await new Promise<string>((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: h.port, method: "POST", path: "/up", headers: { host: "a" }, agent: false },
      (res) => {
        let out = "";
        res.on("data", (d) => (out += d));
        res.on("end", () => resolve(out));
      },
    );
    req.on("error", reject);
    writeChunks(req, chunk, 10);
  });
  const most = watch.stop();
  const parsed = JSON.parse(body) as { size: number; sha: string };
  t.is(parsed.size, 10 * MB);
  t.is(parsed.sha, expected.digest("hex"));
  t.log(`the proxy held at most ${most} bytes`);
  t.true(most < BOUND, `the proxy held at most ${most} bytes`);
});

test("a 10 MB download to a slow client streams through with bounded proxy memory and intact bytes", async (t) => {
  const chunk = Buffer.alloc(MB);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i % 253;
  const a = await app(t, (_req, res) => {
    res.setHeader("content-length", String(10 * MB));
    writeChunks(res, chunk, 10);
  });
  const chunkedApp = await app(t, (_req, res) => writeChunks(res, chunk, 10));
  const expected = createHash("sha256");
  for (let i = 0; i < 10; i++) expected.update(chunk);
  const want = expected.digest("hex");
  for (const port of [a.port, chunkedApp.port]) {
    const h = await startProxy(t, fakeRoute([port]));
    const watch = sampler(() => h.proxy.bufferedBytes());
    const got = await new Promise<{ size: number; sha: string }>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port: h.port, headers: { host: "a" }, agent: false }, (res) =>
          resolve(hashStream(res, true)),
        )
        .on("error", reject);
    });
    const most = watch.stop();
    t.is(got.size, 10 * MB);
    t.is(got.sha, want);
    t.log(`the proxy held at most ${most} bytes`);
    t.true(most < BOUND, `the proxy held at most ${most} bytes`);
  }
});

test("a WebSocket-style upgrade is piped both ways after the upstream's 101", async (t) => {
  const a = await app(t, (_req, res) => res.end("not an upgrade"));
  let upgradeHeaders: http.IncomingHttpHeaders = {};
  a.server.on("upgrade", (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    upgradeHeaders = req.headers;
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    if (head.length > 0) socket.write(head);
    // Echo, upper-cased, so the answer is provably the app's.
    socket.on("data", (d: Buffer) => socket.write(d.toString().toUpperCase()));
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const echoed = await new Promise<string>((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port: h.port,
      headers: { host: "a", connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": "x" },
      agent: false,
    });
    req.on("upgrade", (_res, socket: Socket, head: Buffer) => {
      let got = head.toString();
      socket.on("data", (d) => {
        got += d;
        if (got.length >= 8) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.write("hello ");
      setTimeout(() => socket.write("ws"), 20);
    });
    req.on("error", reject);
    req.end();
  });
  t.is(echoed, "HELLO WS");
  t.is(upgradeHeaders.upgrade, "websocket");
  t.regex(String(upgradeHeaders.connection), /upgrade/i);
  t.is(upgradeHeaders["sec-websocket-key"], "x");
  t.regex(h.metrics.render(), /code="101"/);
});

test("an upgrade the upstream declines is passed back and the connection closed", async (t) => {
  const a = await app(t, (_req, res) => res.writeHead(426, { "content-length": "4" }).end("nope"));
  const h = await startProxy(t, fakeRoute([a.port]));
  const text = await raw(
    h.port,
    "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
  );
  t.regex(text, /^HTTP\/1\.1 426 [\s\S]*\r\n\r\nnope$/);
  t.regex(text, /\r\nconnection: close\r\n/i);
});

test("an app that answers while the upload is still coming (an echo) gets the rest of the body", async (t) => {
  const a = await app(t, (req, res) => {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    req.pipe(res);
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const chunk = Buffer.alloc(256 * 1024, 3);
  const got = await new Promise<number>((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: h.port, method: "POST", headers: { host: "a" }, agent: false },
      (res) => {
        let n = 0;
        res.on("data", (d: Buffer) => (n += d.length));
        res.on("end", () => resolve(n));
      },
    );
    req.on("error", reject);
    // Half now, half once the echo has started coming back.
    req.write(chunk);
    req.once("response", (res) => res.once("data", () => req.end(chunk)));
  });
  t.is(got, 2 * chunk.length);
});

test("an app that answers before reading the upload still gets the rest, and both connections stay usable", async (t) => {
  const a = await app(t, (req, res) => {
    res.end("early");
    req.resume();
  });
  const h = await startProxy(t, fakeRoute([a.port]));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  let clientConnections = 0;
  const body = Buffer.alloc(MB, 5);
  for (let i = 0; i < 3; i++) {
    const res = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port: h.port, method: "POST", headers: { host: "a" }, agent },
        (r) => {
          let out = "";
          r.on("data", (d) => (out += d));
          r.on("end", () => resolve(out));
        },
      );
      req.on("socket", (s) => {
        if (!(s as Socket & { counted?: boolean }).counted) {
          (s as Socket & { counted?: boolean }).counted = true;
          clientConnections++;
        }
      });
      req.on("error", reject);
      req.end(body);
    });
    t.is(res, "early");
  }
  t.is(clientConnections, 1, "the client's connection was kept");
  t.is(a.connections(), 1, "so was the upstream one");
});
