// Port publishing against real sockets on 127.0.0.1: the forwarder carries bytes both ways, keeps
// half-closed connections working, applies backpressure, refuses a taken port without leaving
// anything bound, and closes what it opened when unpublished.
import { connect, createServer, type Server, type Socket } from "node:net";
import test from "ava";
import { PortPublisher } from "../runtime/src/ports/index";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, allowHalfOpen: true }, () => resolve(s));
    s.once("error", reject);
  });
}

function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    s.once("end", () => resolve(Buffer.concat(chunks)));
    s.once("error", reject);
  });
}

/** A "workload" that answers after its client half-closes: the reversed request, then its own FIN. */
async function reverser(t: { teardown(fn: () => Promise<void>): void }): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    readAll(s).then(
      (b) => s.end(Buffer.from(b.toString().split("").reverse().join(""))),
      () => s.destroy(),
    );
  });
  const port = await listen(server);
  t.teardown(() => close(server));
  return port;
}

function publisher(t: { teardown(fn: () => Promise<void>): void }): PortPublisher {
  const p = new PortPublisher({ logger: quiet });
  t.teardown(() => p.close());
  return p;
}

test("a published port reaches the workload, and a half-closed client still gets its answer", async (t) => {
  const target = await reverser(t);
  const p = publisher(t);
  const [port] = await p.publish("c1", "127.0.0.1", [
    { hostIp: "127.0.0.1", hostPort: 0, containerPort: target, protocol: "tcp" },
  ]);
  t.truthy(port);
  t.not(port!.hostPort, 0, "hostPort 0 is reported as the port really bound");
  t.deepEqual(p.published("c1"), [port]);
  const s = await dial(port!.hostPort);
  s.end("hello weft");
  t.is((await readAll(s)).toString(), "tfew olleh");
});

test("the forwarder applies backpressure and delivers every byte in order", async (t) => {
  let upstream: Socket | undefined;
  const received: Buffer[] = [];
  const server = createServer((s) => {
    upstream = s;
    s.pause();
    s.on("data", (c: Buffer) => received.push(c));
  });
  const target = await listen(server);
  t.teardown(() => {
    upstream?.destroy();
    return close(server);
  });
  const p = publisher(t);
  const [port] = await p.publish("c1", "127.0.0.1", [
    { hostIp: "127.0.0.1", hostPort: 0, containerPort: target, protocol: "tcp" },
  ]);
  const client = await dial(port!.hostPort);
  t.teardown(() => client.destroy());
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  let blocked = false;
  // Write until the writer is held back for a second while the workload reads nothing. Without
  // backpressure the forwarder would swallow everything into memory and this would hit the cap.
  while (!blocked && written < 256 * 1024 * 1024) {
    chunk.writeUInt32BE(written / chunk.length, 0);
    written += chunk.length;
    if (!client.write(chunk)) {
      blocked = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), 1000);
        client.once("drain", () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
    }
  }
  t.true(blocked, `the client was never held back after ${written} bytes`);
  t.true(written < 128 * 1024 * 1024, `the forwarder buffered ${written} bytes`);
  upstream!.resume();
  client.end();
  await new Promise<void>((resolve) => upstream!.once("end", () => resolve()));
  const all = Buffer.concat(received);
  t.is(all.length, written);
  for (let i = 0; i < written / chunk.length; i++) t.is(all.readUInt32BE(i * chunk.length), i);
});

test("a taken host port fails with PORT_IN_USE naming it, and nothing of the call stays bound", async (t) => {
  const target = await reverser(t);
  const taken = createServer();
  const takenPort = await listen(taken);
  t.teardown(() => close(taken));
  // A port that is free now, for the first spec of the call.
  const probe = createServer();
  const freePort = await listen(probe);
  await close(probe);

  const p = publisher(t);
  const err = await t.throwsAsync(
    p.publish("c1", "127.0.0.1", [
      { hostIp: "127.0.0.1", hostPort: freePort, containerPort: target, protocol: "tcp" },
      { hostIp: "127.0.0.1", hostPort: takenPort, containerPort: target, protocol: "tcp" },
    ]),
  );
  t.is((err as { code?: string }).code, "PORT_IN_USE");
  t.true(err.message.includes(`127.0.0.1:${takenPort}`));
  t.regex(err.message, /choose another host port/);
  t.deepEqual(p.published("c1"), []);
  // All-or-nothing: the first port was released again.
  const again = createServer();
  t.is(await listen(again, freePort), freePort);
  await close(again);
});

test("unpublish closes the listener and the connections through it", async (t) => {
  const server = createServer((s) => s.on("data", () => {}));
  const target = await listen(server);
  t.teardown(() => close(server));
  const p = publisher(t);
  const [port] = await p.publish("c1", "127.0.0.1", [
    { hostIp: "127.0.0.1", hostPort: 0, containerPort: target, protocol: "tcp" },
  ]);
  const open = await dial(port!.hostPort);
  open.on("error", () => {});
  const closed = new Promise<void>((resolve) => open.once("close", () => resolve()));
  await p.unpublish("c1");
  await closed;
  await t.throwsAsync(dial(port!.hostPort), { code: "ECONNREFUSED" });
  await p.unpublish("c1");
});

test("a workload that refuses the connection closes the client's connection", async (t) => {
  const probe = createServer();
  const deadPort = await listen(probe);
  await close(probe);
  const p = publisher(t);
  const [port] = await p.publish("c1", "127.0.0.1", [
    { hostIp: "127.0.0.1", hostPort: 0, containerPort: deadPort, protocol: "tcp" },
  ]);
  const s = await dial(port!.hostPort);
  s.on("error", () => {});
  await new Promise<void>((resolve) => s.once("close", () => resolve()));
  t.pass();
});
