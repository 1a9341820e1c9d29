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
  /** The chunks handed over are borrowed (valid until the callback returns): copy to keep. */
  readonly borrowed: boolean;
  /** From now on the bytes come as 'data' events, owned (for pipe() after an upgrade). */
  toDataEvents(): void;
}

/**
 * Hands each chunk read from `socket` to `onChunk`. Bytes already read into the socket's stream
 * (pushed back by protocol detection, or read before this was called) come first, owned, on the
 * next tick. The socket is put in flowing mode unless it is paused (as a 'data' listener would),
 * so 'end' is emitted; pause() and resume() work as with 'data' events.
 */
export function readBorrowed(socket: Socket, onChunk: (chunk: Buffer) => void): BorrowedReads {
  let deliver = onChunk;
  const handle = (socket as unknown as { _handle: UserBufferHandle | null })._handle;
  if (!fields || typeof handle?.useUserBuffer !== "function") {
    const listener = (chunk: Buffer) => deliver(chunk);
    socket.on("data", listener);
    return {
      borrowed: false,
      toDataEvents() {
        socket.off("data", listener);
      },
    };
  }
  const early = socket.readableLength > 0 ? (socket.read() as Buffer | null) : null;
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const s = socket as unknown as Record<symbol, unknown>;
  s[fields.buffer] = buffer;
  s[fields.generator] = null;
  s[fields.callback] = (n: number, buf: Buffer) => {
    deliver(buf.subarray(0, n));
  };
  handle.useUserBuffer(buffer);
  if (!socket.isPaused()) socket.resume();
  if (early) {
    process.nextTick(() => {
      if (!socket.destroyed) deliver(early);
    });
  }
  return {
    borrowed: true,
    toDataEvents() {
      deliver = (chunk) => socket.emit("data", Buffer.from(chunk));
    },
  };
}

/** A chunk to keep past the callback that got it: a copy when it is borrowed. */
export function owned(chunk: Buffer, reads: BorrowedReads): Buffer {
  return reads.borrowed ? Buffer.from(chunk) : chunk;
}
