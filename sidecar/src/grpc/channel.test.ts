// The lean client against a real @grpc/grpc-js server (what the control plane runs) and against an
// HTTP/2 server that is not gRPC: messages, statuses, deadlines, streams, broken connections.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttp2Server } from "node:http2";
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import test, { type ExecutionContext } from "ava";
import { rawMethod } from "../testing/raw-method";
import { GrpcChannel, GrpcStatus, GrpcStatusError } from "./index";

const SERVICE = {
  Echo: rawMethod("/t.Test/Echo"),
  Fail: rawMethod("/t.Test/Fail"),
  Hang: rawMethod("/t.Test/Hang"),
  Chat: rawMethod("/t.Test/Chat", true, true),
};

interface TestServer {
  target: string;
  cancelled: Promise<void>;
  stop(): Promise<void>;
  /** Drops every connection at once, as a crashed control plane does. */
  kill(): void;
}

async function startServer(address: string): Promise<TestServer> {
  const server = new grpc.Server();
  let onCancel: () => void = () => {};
  const cancelled = new Promise<void>((r) => {
    onCancel = r;
  });
  server.addService(SERVICE, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, Buffer.concat([Buffer.from("echo:"), call.request])),
    Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb({ code: grpc.status.FAILED_PRECONDITION, details: "no such thing: 50% gone, ünïcode" }),
    Hang: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => call.on("cancelled", onCancel),
    Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on("data", (m: Buffer) => call.write(m));
      call.on("end", () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    target: address.startsWith("unix:") ? address : `127.0.0.1:${port}`,
    cancelled,
    stop: () => new Promise((r) => server.tryShutdown(() => r())),
    kill: () => server.forceShutdown(),
  };
}

/** A grpc-js test server on a loopback port and a channel to it, both closed when the test ends. */
async function serverAndChannel(t: ExecutionContext): Promise<{ server: TestServer; channel: GrpcChannel }> {
  const server = await startServer("127.0.0.1:0");
  const channel = new GrpcChannel(server.target);
  t.teardown(() => {
    channel.close();
    return server.stop();
  });
  return { server, channel };
}

/** Listens `server` (any server that is not gRPC) on a loopback port; a channel to it; both closed at the end. */
async function channelTo(t: ExecutionContext, server: NetServer): Promise<GrpcChannel> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const channel = new GrpcChannel(`127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.teardown(() => {
    channel.close();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return channel;
}

const dir = mkdtempSync(join(tmpdir(), "wt-grpc-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test("unary calls over a unix socket and over TCP", async (t) => {
  for (const address of [`unix://${join(dir, "a.sock")}`, "127.0.0.1:0"]) {
    const server = await startServer(address);
    const channel = new GrpcChannel(server.target);
    try {
      t.is((await channel.unary("/t.Test/Echo", Buffer.from("hi"))).toString(), "echo:hi", address);
      // an empty request and a big one (many DATA frames)
      t.is((await channel.unary("/t.Test/Echo", Buffer.alloc(0))).toString(), "echo:");
      const big = randomBytes(3 * 1024 * 1024);
      t.true((await channel.unary("/t.Test/Echo", big)).subarray(5).equals(big));
    } finally {
      channel.close();
      await server.stop();
    }
  }
});

test("a failed call carries the server's status code and message", async (t) => {
  const { channel } = await serverAndChannel(t);
  const err = await t.throwsAsync(channel.unary("/t.Test/Fail", Buffer.from("x")), {
    instanceOf: GrpcStatusError,
  });
  t.is(err?.code, 9); // FAILED_PRECONDITION
  t.is(err?.details, "no such thing: 50% gone, ünïcode");
  const missing = await t.throwsAsync(channel.unary("/t.Test/Nope", Buffer.from("x")), {
    instanceOf: GrpcStatusError,
  });
  t.is(missing?.code, GrpcStatus.UNIMPLEMENTED);
});

test("a deadline fails the call with DEADLINE_EXCEEDED and cancels it on the server", async (t) => {
  const { server, channel } = await serverAndChannel(t);
  const err = await t.throwsAsync(channel.unary("/t.Test/Hang", Buffer.from("x"), { timeoutMs: 200 }), {
    instanceOf: GrpcStatusError,
  });
  t.is(err?.code, GrpcStatus.DEADLINE_EXCEEDED);
  await server.cancelled; // the server saw the call end (the test times out otherwise)
  t.is((await channel.unary("/t.Test/Echo", Buffer.from("after"))).toString(), "echo:after");
});

test("a bidi stream carries messages both ways in order and ends with OK", async (t) => {
  const { channel } = await serverAndChannel(t);
  const call = channel.stream("/t.Test/Chat");
  const sent = [Buffer.from("one"), randomBytes(1024 * 1024), Buffer.alloc(0), Buffer.from("last")];
  const received: Buffer[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    call.on("message", (m: Buffer) => received.push(m));
    call.on("end", resolve);
    call.on("error", reject);
  });
  for (const m of sent) call.write(m);
  call.end();
  await ended;
  t.is(received.length, sent.length);
  for (const [i, m] of sent.entries()) t.true(received[i]?.equals(m), `message ${i}`);
});

test("no server, or a server that goes away, is UNAVAILABLE; the next call reconnects", async (t) => {
  const nowhere = new GrpcChannel(`unix://${join(dir, "missing.sock")}`);
  const err = await t.throwsAsync(nowhere.unary("/t.Test/Echo", Buffer.from("x")), {
    instanceOf: GrpcStatusError,
  });
  t.is(err?.code, GrpcStatus.UNAVAILABLE);
  nowhere.close();

  const path = `unix://${join(dir, "restart.sock")}`;
  const first = await startServer(path);
  const channel = new GrpcChannel(path);
  t.teardown(() => channel.close());
  const call = channel.stream("/t.Test/Chat");
  const broken = new Promise<GrpcStatusError>((resolve) => call.on("error", resolve));
  call.write(Buffer.from("hello"));
  await new Promise((r) => call.once("message", r));
  first.kill();
  t.is((await broken).code, GrpcStatus.UNAVAILABLE);
  rmSync(join(dir, "restart.sock"), { force: true });
  const second = await startServer(path);
  t.teardown(() => second.stop());
  t.is((await channel.unary("/t.Test/Echo", Buffer.from("again"))).toString(), "echo:again");
});

test("an HTTP/2 server that is not gRPC gives a status that says so", async (t) => {
  const server = createHttp2Server((_req, res) => {
    res.writeHead(404, { "content-type": "text/html" });
    res.end("<h1>not here</h1>");
  });
  const channel = await channelTo(t, server);
  const err = await t.throwsAsync(channel.unary("/t.Test/Echo", Buffer.from("x")), {
    instanceOf: GrpcStatusError,
  });
  t.is(err?.code, GrpcStatus.UNIMPLEMENTED);
  t.regex(err?.details ?? "", /HTTP 404 text\/html, not gRPC/);
});

test("a server's GOAWAY lets the call in flight finish; later calls reconnect", async (t) => {
  const path = `unix://${join(dir, "goaway.sock")}`;
  const first = await startServer(path);
  const channel = new GrpcChannel(path);
  t.teardown(() => channel.close());
  const call = channel.stream("/t.Test/Chat");
  const received: string[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    call.on("message", (m: Buffer) => received.push(m.toString()));
    call.on("end", resolve);
    call.on("error", reject);
  });
  call.write(Buffer.from("before"));
  await new Promise((r) => call.once("message", r));
  const stopped = first.stop(); // sends GOAWAY, then waits for the calls it has
  call.write(Buffer.from("during"));
  call.end();
  await ended;
  await stopped;
  t.deepEqual(received, ["before", "during"]);
  rmSync(join(dir, "goaway.sock"), { force: true });
  const second = await startServer(path);
  t.teardown(() => second.stop());
  t.is((await channel.unary("/t.Test/Echo", Buffer.from("again"))).toString(), "echo:again");
});

test("one stream carries more than the receive window the client advertises", async (t) => {
  const { channel } = await serverAndChannel(t);
  // 20 MiB each way on one stream: past the 16 MiB windows, so both sides must hand window back.
  const call = channel.stream("/t.Test/Chat");
  const chunk = randomBytes(1024 * 1024);
  let bytes = 0;
  const ended = new Promise<void>((resolve, reject) => {
    call.on("message", (m: Buffer) => {
      if (m.equals(chunk)) bytes += m.length;
    });
    call.on("end", resolve);
    call.on("error", reject);
  });
  for (let i = 0; i < 20; i++) call.write(chunk);
  call.end();
  await ended;
  t.is(bytes, 20 * 1024 * 1024);
});

test("a header block split over CONTINUATION frames arrives whole", async (t) => {
  const details = "why ".repeat(10_000); // 40 KB: over one frame even Huffman-coded
  const server = createHttp2Server();
  server.on("stream", (stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "3", "grpc-message": details }));
    stream.end();
  });
  const channel = await channelTo(t, server);
  const err = await t.throwsAsync(channel.unary("/t.Test/Echo", Buffer.from("x")), {
    instanceOf: GrpcStatusError,
  });
  t.is(err?.code, GrpcStatus.INVALID_ARGUMENT);
  t.is(err?.details, details);
});

test("a server that breaks HTTP/2 framing fails the call as UNAVAILABLE and is told why", async (t) => {
  const seen: Buffer[] = [];
  let clientGone: () => void = () => {};
  const gone = new Promise<void>((r) => {
    clientGone = r;
  });
  const server = createNetServer((socket) => {
    socket.on("data", (d) => seen.push(d));
    socket.on("close", () => clientGone());
    socket.on("error", () => {});
    // SETTINGS, then a frame longer than the 16384 bytes the client accepts.
    const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    const huge = Buffer.alloc(9);
    huge.writeUIntBE(20_000, 0, 3);
    socket.write(Buffer.concat([settings, huge, Buffer.alloc(20_000)]));
  });
  const channel = await channelTo(t, server);
  const err = await t.throwsAsync(channel.unary("/t.Test/Echo", Buffer.from("x")), {
    instanceOf: GrpcStatusError,
  });
  t.is(err?.code, GrpcStatus.UNAVAILABLE);
  t.regex(err?.details ?? "", /HTTP\/2 protocol error from the server: a frame of 20000 bytes/);
  // The client said so in a GOAWAY (type 7) with FRAME_SIZE_ERROR (6) before closing.
  await gone;
  const bytes = Buffer.concat(seen);
  const goaway = bytes.indexOf(Buffer.from([0, 0, 8, 7, 0, 0, 0, 0, 0]));
  t.true(goaway > 0, "a GOAWAY frame was sent");
  t.is(bytes.readUInt32BE(goaway + 13), 6);
});
