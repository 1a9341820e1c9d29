// Protocol detection through a sidecar pair: on an "auto" port HTTP/1.1, h2c and opaque TCP each
// take their own path; a server-speaks-first protocol still works (after the detection timeout),
// and declared "server-first" ports never wait at all. Also WebSocket over HTTP/1.1 Upgrade.
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import http2 from "node:http2";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import test, { type ExecutionContext } from "ava";
import { startPair } from "../testing/pair";
import { classify } from "./sniff";

async function listen(
  t: ExecutionContext,
  server: Server | http.Server | http2.Http2Server,
): Promise<number> {
  // Every connection is closed at the end: upgraded and piped ones are no longer the server's.
  const open = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    open.add(s);
    s.once("close", () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => {
    for (const s of open) s.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

test("classify: methods, the h2 preface and anything else", (t) => {
  t.is(classify(Buffer.from("GET / HTTP/1.1\r\n")), "http1");
  t.is(classify(Buffer.from("DELETE /x")), "http1");
  t.is(classify(Buffer.from("GE")), "more");
  t.is(classify(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")), "h2");
  t.is(classify(Buffer.from("PRI * HT")), "more");
  t.is(classify(Buffer.from("\x16\x03\x01\x02\x00")), "tcp", "a TLS ClientHello is opaque");
  t.is(classify(Buffer.from("GETX")), "tcp");
  t.is(classify(Buffer.from("SSH-2.0-OpenSSH")), "tcp");
});

test("an auto port carries HTTP/1.1, h2c and opaque TCP, each on its own path", async (t) => {
  // One app port speaking all three: HTTP/1.1, h2c (by its preface), and a connection that starts
  // with "ECHO" is echoed back raw.
  const answer = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    res.setHeader("x-proto", req.httpVersion);
    res.setHeader("x-via-seen", String(req.headers.via ?? ""));
    res.end("hello");
  };
  const h1 = http.createServer(answer);
  const h2 = http2.createServer(answer);
  const front = createServer((socket) => {
    socket.once("data", (d: Buffer) => {
      if (d.toString().startsWith("ECHO")) {
        socket.write(d);
        socket.pipe(socket);
        return;
      }
      socket.pause();
      socket.unshift(d);
      if (d.toString().startsWith("PRI")) return void h2.emit("connection", socket);
      h1.emit("connection", socket);
      socket.resume();
    });
  });
  const appPort = await listen(t, front);
  const p = await startPair({ appPort });
  t.teardown(() => p.close());

  const one = await new Promise<http.IncomingMessage>((resolve, reject) =>
    http
      .get({ host: "127.0.0.1", port: p.port, headers: { host: "app" }, agent: false }, resolve)
      .on("error", reject),
  );
  one.resume();
  t.is(one.headers["x-proto"], "1.1");
  t.is(one.headers["x-via-seen"], "1.1 client (weft-outbound), 1.1 server (weft-inbound)");

  const session = http2.connect(`http://127.0.0.1:${p.port}`);
  t.teardown(() => session.close());
  const two = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    const req = session.request({ ":path": "/" });
    req.on("response", resolve);
    req.on("error", reject);
    req.resume();
  });
  t.is(two["x-proto"], "2.0", JSON.stringify(two));
  t.is(two["x-via-seen"], "1.1 client (weft-outbound), 1.1 server (weft-inbound)");

  const echoed = await new Promise<string>((resolve, reject) => {
    const c = connect(p.port, "127.0.0.1", () => c.write("ECHO 123"));
    c.once("data", (d) => {
      c.destroy();
      resolve(d.toString());
    });
    c.on("error", reject);
  });
  t.is(echoed, "ECHO 123");
  t.regex(
    p.client.metrics.render(),
    /weft_requests_total\{direction="outbound",service="server",code="200",route="default"\} 2/,
  );
});

/** A server that greets first, like MySQL or SMTP. */
async function greeter(t: ExecutionContext): Promise<number> {
  return listen(
    t,
    createServer((s: Socket) => s.end("220 hello\r\n")),
  );
}

function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const c = connect(port, "127.0.0.1");
    c.on("data", (d) => (out += d));
    c.on("end", () => resolve(out));
    c.on("error", reject);
    c.setTimeout(20_000, () => c.destroy(new Error("no greeting")));
  });
}

test("a server-first protocol on an auto port gets through once detection gives up", async (t) => {
  const p = await startPair({ appPort: await greeter(t) });
  t.teardown(() => p.close());
  t.is(await greeting(p.port), "220 hello\r\n");
});

test("a port declared server-first skips detection entirely", async (t) => {
  // Detection would wait 10 minutes here: the greeting can only arrive because it is skipped.
  const p = await startPair({
    appPort: await greeter(t),
    protocol: "server-first",
    options: { detectTimeoutMs: 600_000 },
  });
  t.teardown(() => p.close());
  t.is(await greeting(p.port), "220 hello\r\n");
});

function frame(text: string): Buffer {
  // A masked client text frame (RFC 6455 §5.2), payload < 126 bytes.
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

test("WebSocket: upgrade through the pair, then frames both ways", async (t) => {
  const server = http.createServer((_req, res) => res.end("not a websocket"));
  server.on("upgrade", (req, socket: Socket) => {
    const accept = createHash("sha1")
      .update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest("base64");
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    // Echo: unmask each client frame and send it back unmasked.
    socket.on("data", (d: Buffer) => {
      const len = (d[1] as number) & 0x7f;
      const mask = d.subarray(2, 6);
      const payload = Buffer.from(d.subarray(6, 6 + len).map((b, i) => b ^ (mask[i % 4] as number)));
      socket.write(Buffer.concat([Buffer.from([0x81, payload.length]), Buffer.from(`echo:${payload}`)]));
    });
  });
  const p = await startPair({ appPort: await listen(t, server) });
  t.teardown(() => p.close());
  const key = randomBytes(16).toString("base64");
  const { res, socket } = await new Promise<{ res: http.IncomingMessage; socket: Socket }>(
    (resolve, reject) => {
      const req = http.request({
        host: "127.0.0.1",
        port: p.port,
        agent: false,
        headers: {
          host: "app",
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-key": key,
          "sec-websocket-version": "13",
        },
      });
      req.on("upgrade", (r, s) => resolve({ res: r, socket: s }));
      req.on("error", reject);
      req.end();
    },
  );
  t.teardown(() => socket.destroy());
  t.is(res.statusCode, 101);
  t.regex(String(res.headers.via), /weft-inbound.*weft-outbound/);
  const replies: string[] = [];
  for (const text of ["one", "two"]) {
    socket.write(frame(text));
    const reply = await new Promise<Buffer>((r) => socket.once("data", r));
    replies.push(reply.subarray(2).toString());
  }
  t.deepEqual(replies, ["echo:one", "echo:two"]);
});
