// Reads a socket into one buffer of its own, reused for every read (net's `onread`), instead of
// 'data' events. A 'data' chunk costs a 64 KiB allocation shrunk to what was read, a Buffer object,
// and the Readable machinery (push, emit, a nextTick to read more); measured on a TCP pipe at
// 1000 req/s that was about a quarter of its CPU per request. The chunk handed over is borrowed:
// valid only until the callback returns, after which the next read overwrites it. The HTTP/1.1
// proxy keeps nothing of it: llhttp copies body chunks and header strings out of what it parses,
// and the few places that hold bytes for later (a pipelined head waiting its turn, bytes after an
// upgrade) copy them (owned()).
//
// net.connect takes `onread` but net.Server has no such option for the sockets it accepts, so the
// socket's own onread fields (the symbols net.Socket's constructor sets) are filled in and its
// handle told to read into the buffer, as the constructor does. Where that is not possible (a
// future Node without those fields, a socket without a handle) it falls back to 'data' events.
import { Socket } from "node:net";

/** As large as the read libuv suggests, so a big body takes no more reads than with 'data'. Only
 * the pages a read touches are resident: a socket carrying small requests holds about one page. */
const READ_BUFFER_BYTES = 64 * 1024;

interface OnreadFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

/** The symbols of net.Socket's onread state, or undefined when this Node has none. */
const fields: OnreadFields | undefined = (() => {
  const probe = new Socket();
  const own = Object.getOwnPropertySymbols(probe);
  const find = (name: string) => own.find((s) => s.description === name);
  const buffer = find("kBuffer");
  const callback = find("kBufferCb");
  const generator = find("kBufferGen");
  probe.destroy();
  return buffer && callback && generator ? { buffer, callback, generator } : undefined;
})();

interface UserBufferHandle {
  useUserBuffer?: (buf: Uint8Array) => void;
}

export interface BorrowedReads {
  /** Reads go into the socket's own buffer (false: this Node could not, and they are 'data' events). */
  readonly borrowed: boolean;
  /** Called from the callback: the chunk just handed over stays in use (a write still queued
   * holds it), so the next read goes into a new buffer instead. */
  retain(): void;
  /** From now on the bytes come as 'data' events, owned (for pipe() after an upgrade). */
  toDataEvents(): void;
}

/** `borrowed`: the chunk is valid only until the callback returns (owned() makes a copy to keep). */
export type OnChunk = (chunk: Buffer, borrowed: boolean) => void;

/**
 * Hands each chunk read from `socket` to `onChunk`, and resumes the socket (pause() and resume()
 * work as with 'data' events; flowing, it emits 'end'). Bytes the socket's stream already holds
 * (pushed back by protocol detection, or read before this call) are handed over before this
 * returns, ahead of any 'end': call it when ready for them, and pause from the callback if need be.
 */
export function readBorrowed(socket: Socket, onChunk: OnChunk): BorrowedReads {
  let deliver = onChunk;
  const early = socket.readableLength > 0 ? (socket.read() as Buffer | null) : null;
  const handle = (socket as unknown as { _handle: UserBufferHandle | null })._handle;
  let reads: BorrowedReads;
  if (!fields || typeof handle?.useUserBuffer !== "function") {
    const listener = (chunk: Buffer) => deliver(chunk, false);
    socket.on("data", listener);
    reads = {
      borrowed: false,
      retain() {},
      toDataEvents() {
        socket.off("data", listener);
      },
    };
  } else {
    const s = socket as unknown as Record<symbol, unknown>;
    const { generator } = fields;
    // net calls the generator, when there is one, after a read and reads into what it returns.
    const fresh = () => {
      s[generator] = null;
      return Buffer.allocUnsafe(READ_BUFFER_BYTES);
    };
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    s[fields.buffer] = buffer;
    s[generator] = null;
    s[fields.callback] = (n: number, buf: Buffer) => {
      deliver(buf.subarray(0, n), true);
    };
    handle.useUserBuffer(buffer);
    reads = {
      borrowed: true,
      retain() {
        s[generator] = fresh;
      },
      toDataEvents() {
        deliver = (chunk) => socket.emit("data", Buffer.from(chunk));
      },
    };
  }
  socket.resume();
  if (early) deliver(early, false);
  return reads;
}

/** A chunk to keep past the callback that got it: a copy when it is borrowed. */
export function owned(chunk: Buffer, borrowed: boolean): Buffer {
  return borrowed ? Buffer.from(chunk) : chunk;
}

/**
 * Pipes `from` into `to` as pipe() does (the write side ended when `from` ends, `from` paused while
 * `to` wants a 'drain'), reading `from` into a reused buffer: a chunk whose write is queued (`to`
 * still connecting, or the kernel not taking it all) keeps its buffer and the next read gets a new
 * one. Errors are the caller's to handle on both sockets.
 */
export function pipeBorrowed(from: Socket, to: Socket): void {
  let waiting = false;
  const reads = readBorrowed(from, (chunk, borrowed) => {
    if (to.destroyed) return;
    const more = to.write(chunk);
    if (borrowed && to.writableLength > 0) reads.retain();
    if (more || waiting) return;
    waiting = true;
    from.pause();
    to.once("drain", () => {
      waiting = false;
      from.resume();
    });
  });
  from.once("end", () => {
    if (!to.destroyed) to.end();
  });
}
