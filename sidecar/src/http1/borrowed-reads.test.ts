// Reads into a socket's own reused buffer (borrowed-reads.ts), on real loopback sockets: accepted
// and connected sockets both, bytes intact and in order, bytes read before the switch first,
// pause() holding reads back, 'end' and 'close' as with 'data' events, 'data' events again after
// toDataEvents() for a pipe, and pipeBorrowed() to a slow reader (queued writes keep their buffer).
import { createHash } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { Writable } from "node:stream";
import test, { type ExecutionContext } from "ava";
import { type BorrowedReads, owned, pipeBorrowed, readBorrowed } from "./borrowed-reads";

/** A loopback server whose accepted sockets are handed to `onSocket`; closed after the test. */
async function serve(t: ExecutionContext, onSocket: (s: Socket) => void): Promise<number> {
  const server: Server = createServer({ allowHalfOpen: true }, onSocket);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  return (server.address() as { port: number }).port;
}

function client(t: ExecutionContext, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: "127.0.0.1", port }, () => resolve(c));
    c.once("error", reject);
    t.teardown(() => c.destroy());
  });
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes that differ along the way (4 MiB unless told), so a chunk overwritten or out of order shows. */
function payload(size = 4 << 20): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < b.length; i += 4) b.writeUInt32LE(i, i);
  return b;
}

test("an accepted socket's bytes arrive intact and in order, read into one reused buffer, then 'end' and 'close'", async (t) => {
  const data = payload();
  const got: Buffer[] = [];
  const arrays = new Set<ArrayBufferLike>();
  let reads!: BorrowedReads;
  const done = new Promise<string[]>((resolve) => {
    const events: string[] = [];
    void serve(t, (s) => {
      reads = readBorrowed(s, (chunk, borrowed) => {
        arrays.add(chunk.buffer);
        got.push(owned(chunk, borrowed));
      });
      s.on("end", () => {
        events.push("end");
        s.end();
      });
      s.on("close", () => resolve([...events, "close"]));
    }).then(async (port) => {
      const c = await client(t, port);
      // Many writes of odd sizes: reads then split and join them anywhere.
      for (let i = 0; i < data.length; i += 7919) c.write(data.subarray(i, i + 7919));
      c.end();
    });
  });
  t.deepEqual(await done, ["end", "close"]);
  t.true(reads.borrowed, "this Node's net.Socket lost the onread fields: reads fell back to 'data' events");
  t.is(sha(Buffer.concat(got)), sha(data));
  t.true(got.length > 1, "the bytes came in one read: nothing was reused");
  t.is(arrays.size, 1, "every read went into the same buffer");
  t.false(
    got.some((g) => arrays.has(g.buffer)),
    "owned() copies a borrowed chunk",
  );
});

test("a connected socket reads into its buffer, and the peer's close ends it", async (t) => {
  const data = payload();
  const port = await serve(t, (s) => s.end(data));
  const got: Buffer[] = [];
  const c = connect({ host: "127.0.0.1", port });
  t.teardown(() => c.destroy());
  const reads = readBorrowed(c, (chunk) => got.push(Buffer.from(chunk)));
  await new Promise((resolve) => c.once("close", resolve));
  t.true(reads.borrowed);
  t.is(sha(Buffer.concat(got)), sha(data));
});

test("bytes the stream already holds (pushed back by detection) come first, owned, then the rest", async (t) => {
  const got: Array<[string, boolean]> = [];
  const ended = new Promise<void>((resolve) => {
    void serve(t, (s) => {
      // As detection does: read the first bytes, push them back, pause.
      s.once("data", (first: Buffer) => {
        s.pause();
        s.unshift(first);
        setTimeout(() => {
          readBorrowed(s, (chunk, borrowed) => got.push([chunk.toString(), borrowed]));
          s.on("end", () => resolve());
        }, 50);
      });
    }).then(async (port) => {
      const c = await client(t, port);
      c.write("first ");
      await sleep(150);
      c.end("second");
    });
  });
  await ended;
  t.deepEqual(got, [
    ["first ", false],
    ["second", true],
  ]);
});

test("a client that sent its bytes and ended before the reader came gets them read before 'end'", async (t) => {
  const events: string[] = [];
  const ended = new Promise<void>((resolve) => {
    void serve(t, (s) => {
      // The socket reads "ping" and the end of stream while nobody listens (an upstream connect).
      setTimeout(() => {
        readBorrowed(s, (chunk) => events.push(chunk.toString()));
        s.on("end", () => {
          events.push("end");
          resolve();
        });
      }, 100);
    }).then(async (port) => (await client(t, port)).end("ping"));
  });
  await ended;
  t.deepEqual(events, ["ping", "end"]);
});

test("pause() holds reads back until resume(), as with 'data' events", async (t) => {
  const got: string[] = [];
  let server!: Socket;
  const accepted = new Promise<void>((resolve) => {
    void serve(t, (s) => {
      server = s;
      readBorrowed(s, (chunk) => {
        got.push(chunk.toString());
        s.pause();
      });
      resolve();
    }).then(async (port) => {
      const c = await client(t, port);
      c.write("one");
      // "two" only once "one" was read: written together, a loaded machine reads them as one chunk.
      while (got.length === 0) await sleep(10);
      c.write("two");
    });
  });
  await accepted;
  await sleep(300);
  t.deepEqual(got, ["one"], "a paused socket delivered bytes");
  server.resume();
  await sleep(100);
  t.deepEqual(got, ["one", "two"]);
});

test("after toDataEvents() the bytes come as owned 'data' events: a pipe carries them", async (t) => {
  const data = payload();
  const echoed: Buffer[] = [];
  const port = await serve(t, (s) => {
    const reads = readBorrowed(s, () => t.fail("bytes reached the reader after toDataEvents()"));
    reads.toDataEvents();
    s.pipe(s);
  });
  const c = await client(t, port);
  c.on("data", (d: Buffer) => echoed.push(d));
  const closed = new Promise((resolve) => c.once("end", resolve));
  c.end(data);
  await closed;
  t.is(sha(Buffer.concat(echoed)), sha(data));
});

test("pipeBorrowed() relays both ways to a slow reader with bytes intact, then the half-close", async (t) => {
  const data = payload();
  // The far end reads in bursts with pauses and answers once the sender has finished.
  const received: Buffer[] = [];
  const farPort = await serve(t, (s) => {
    s.on("data", (d: Buffer) => {
      received.push(d);
      s.pause();
      setTimeout(() => s.resume(), 2);
    });
    s.on("end", () => s.end("bye"));
  });
  const relayPort = await serve(t, (s) => {
    const far = connect({ host: "127.0.0.1", port: farPort, allowHalfOpen: true });
    t.teardown(() => far.destroy());
    pipeBorrowed(s, far);
    pipeBorrowed(far, s);
  });
  const c = await client(t, relayPort);
  const answer: Buffer[] = [];
  c.on("data", (d: Buffer) => answer.push(d));
  const ended = new Promise((resolve) => c.once("end", resolve));
  c.end(data);
  await ended;
  t.is(sha(Buffer.concat(received)), sha(data));
  t.is(Buffer.concat(answer).toString(), "bye");
});

test("pipeBorrowed(): a chunk whose write is still pending keeps its buffer; the next read gets a new one", async (t) => {
  // A destination that holds every chunk it is given (as a write queued behind a full socket
  // does) and finishes each write a while later, below its high-water mark, so the pipe reads on.
  const held: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, done) {
      held.push(chunk);
      setTimeout(done, 20);
    },
  });
  const sent: Buffer[] = [];
  const finished = new Promise<void>((resolve) => {
    void serve(t, (s) => {
      pipeBorrowed(s, slow as unknown as Socket);
      slow.on("finish", () => resolve());
    }).then(async (port) => {
      const c = await client(t, port);
      for (let i = 0; i < 20; i++) {
        const piece = Buffer.alloc(1000, 65 + i);
        sent.push(piece);
        c.write(piece);
        await sleep(5);
      }
      c.end();
    });
  });
  await finished;
  t.true(held.length > 1, "the bytes came in one read: no read followed a pending write");
  t.is(Buffer.concat(held).toString(), Buffer.concat(sent).toString());
});
