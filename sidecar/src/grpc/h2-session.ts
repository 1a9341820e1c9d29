// A minimal HTTP/2 client connection (RFC 9113) for the sidecar's gRPC calls to the control plane.
// node:http2 would do, but loading it pulls tls, crypto, readline and assert in with it: about
// 10 ms and 1 MB of every sidecar's start, for a plaintext connection to one local socket. This
// speaks only what a client of a gRPC server needs: client-initiated streams, HEADERS with
// CONTINUATION, DATA with flow control both ways, SETTINGS, PING, RST_STREAM and GOAWAY. No
// server push (disabled in our SETTINGS), no priorities, no TLS, and the server's
// MAX_CONCURRENT_STREAMS is not counted: a sidecar has a few calls open at most (a stream over the
// limit is refused by the server and its call fails UNAVAILABLE, as any other).
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import {
  ACK,
  COPY_BELOW_BYTES,
  EMPTY,
  END_HEADERS,
  END_STREAM,
  Frame,
  frame,
  frameHeader,
  H2Code,
  MAX_FRAME,
  MAX_WINDOW,
  PREFACE,
  PRIORITY,
  ProtocolError,
  RECEIVE_WINDOW,
  SETTINGS_ENABLE_PUSH,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_FRAME_SIZE,
  settingsPayload,
  u32,
  unpad,
  WINDOW_REFILL,
  windowUpdate,
} from "./h2-frames";
import { type H2Headers, H2Stream, type StreamOwner } from "./h2-stream";
import { encodeHeaders, HpackDecoder, HpackError } from "./hpack";

export { H2Code, type H2Headers, H2Stream };

/** One HTTP/2 connection to a server, carrying any number of request streams. */
export class H2Session extends EventEmitter implements StreamOwner {
  private readonly streams = new Map<number, H2Stream>();
  private readonly decoder = new HpackDecoder();
  private nextId = 1;
  private input: Buffer = Buffer.alloc(0);
  private sendWindow = 65_535;
  private peerInitialWindow = 65_535;
  private peerMaxFrame = 16_384;
  private unacknowledged = 0;
  /** A header block being collected from HEADERS and CONTINUATION frames. */
  private block: { streamId: number; parts: Buffer[]; bytes: number; endStream: boolean } | undefined;
  private goingAway = false;
  destroyed = false;

  constructor(private readonly socket: Socket) {
    super();
    socket.setNoDelay(true);
    const settings = settingsPayload([
      [SETTINGS_ENABLE_PUSH, 0],
      [SETTINGS_INITIAL_WINDOW_SIZE, RECEIVE_WINDOW],
    ]);
    socket.write(
      Buffer.concat([
        PREFACE,
        frame(Frame.SETTINGS, 0, 0, settings),
        windowUpdate(0, RECEIVE_WINDOW - 65_535),
      ]),
    );
    socket.on("data", (chunk: Buffer) => this.onBytes(chunk));
    socket.on("error", (err) => this.destroy(err));
    socket.on("close", () => this.destroy(new Error("the connection to the server closed")));
  }

  /** True once no new stream may start here (gone away, or gone). */
  get closed(): boolean {
    return this.destroyed || this.goingAway;
  }

  /** The connection does not keep the process alive on its own. */
  unref(): void {
    this.socket.unref();
  }

  /** Starts a request: sends its HEADERS (without END_STREAM; the body follows with write/end). */
  request(headers: ReadonlyArray<readonly [string, string]>): H2Stream {
    if (this.closed) throw new Error("the HTTP/2 connection is closed");
    const id = this.nextId;
    this.nextId += 2;
    const stream = new H2Stream(this, id, this.peerInitialWindow);
    this.streams.set(id, stream);
    const block = encodeHeaders(headers);
    for (let at = 0, first = true; first || at < block.length; first = false) {
      const part = block.subarray(at, at + this.peerMaxFrame);
      at += part.length;
      const last = at >= block.length;
      this.socket.write(frame(first ? Frame.HEADERS : Frame.CONTINUATION, last ? END_HEADERS : 0, id, part));
    }
    return stream;
  }

  /**
   * Ends the connection: every open stream fails with `err` (or a plain "closed"). `flush` lets
   * what was written last (a GOAWAY) reach the server first.
   */
  destroy(err?: Error, flush = false): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (flush) this.socket.destroySoon();
    else this.socket.destroy();
    const reason = err ?? new Error("the HTTP/2 connection was closed");
    for (const stream of [...this.streams.values()]) stream.abort(reason);
    this.streams.clear();
    this.emit("close");
  }

  /** @internal Sends what a stream has queued, as far as both flow-control windows allow. */
  flush(stream: H2Stream): void {
    if (this.destroyed) return;
    while (stream.queued.length > 0) {
      const room = Math.min(this.sendWindow, stream.sendWindow, this.peerMaxFrame);
      if (room <= 0) return;
      const head = stream.queued[0] as Buffer;
      const part = head.length <= room ? head : head.subarray(0, room);
      if (part === head) stream.queued.shift();
      else stream.queued[0] = head.subarray(room);
      this.sendWindow -= part.length;
      stream.sendWindow -= part.length;
      const last = stream.queued.length === 0 && stream.ending;
      const flags = last ? END_STREAM : 0;
      if (part.length < COPY_BELOW_BYTES) this.socket.write(frame(Frame.DATA, flags, stream.id, part));
      else {
        // A large payload (a batch of spans or log lines) goes out as it is: two writes, one
        // writev, instead of a copy of every 16 KB behind its header.
        this.socket.cork();
        this.socket.write(frameHeader(Frame.DATA, flags, stream.id, part.length));
        this.socket.write(part);
        this.socket.uncork();
      }
      if (last) {
        stream.sentEnd();
        return;
      }
    }
    if (stream.ending && !stream.localClosed) {
      this.socket.write(frame(Frame.DATA, END_STREAM, stream.id, EMPTY));
      stream.sentEnd();
    }
  }

  /** @internal Resets a stream from our side. */
  reset(stream: H2Stream, code: number): void {
    if (!this.destroyed) this.socket.write(frame(Frame.RST_STREAM, 0, stream.id, u32(code)));
    this.forget(stream);
  }

  /** @internal */
  forget(stream: H2Stream): void {
    this.streams.delete(stream.id);
    if (this.goingAway && this.streams.size === 0) this.destroy();
  }

  private onBytes(chunk: Buffer): void {
    let data = this.input.length > 0 ? Buffer.concat([this.input, chunk]) : chunk;
    while (data.length >= 9 && !this.destroyed) {
      const length = data.readUIntBE(0, 3);
      if (length > MAX_FRAME) {
        this.fail(H2Code.FRAME_SIZE_ERROR, `a frame of ${length} bytes`);
        return;
      }
      if (data.length < 9 + length) break;
      const type = data[3] as number;
      const flags = data[4] as number;
      const streamId = data.readUInt32BE(5) & MAX_WINDOW;
      const payload = data.subarray(9, 9 + length);
      data = data.subarray(9 + length);
      try {
        this.onFrame(type, flags, streamId, payload);
      } catch (err) {
        if (err instanceof HpackError) this.fail(H2Code.COMPRESSION_ERROR, err.message);
        else if (err instanceof ProtocolError) this.fail(err.code, err.message);
        else throw err;
        return;
      }
    }
    this.input = data.length > 0 ? Buffer.from(data) : Buffer.alloc(0);
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.block && type !== Frame.CONTINUATION) {
      throw new ProtocolError(H2Code.PROTOCOL_ERROR, "a header block was interrupted by another frame");
    }
    switch (type) {
      case Frame.DATA:
        this.onData(flags, streamId, payload);
        return;
      case Frame.HEADERS:
        this.onHeaders(flags, streamId, payload);
        return;
      case Frame.CONTINUATION:
        this.onContinuation(flags, streamId, payload);
        return;
      case Frame.RST_STREAM:
        if (payload.length !== 4) throw new ProtocolError(H2Code.FRAME_SIZE_ERROR, "an RST_STREAM frame");
        this.streams.get(streamId)?.onReset(payload.readUInt32BE(0));
        return;
      case Frame.SETTINGS:
        if (flags & ACK) return;
        this.onSettings(payload);
        return;
      case Frame.PING:
        if (payload.length !== 8) throw new ProtocolError(H2Code.FRAME_SIZE_ERROR, "a PING frame");
        if (!(flags & ACK)) this.socket.write(frame(Frame.PING, ACK, 0, payload));
        return;
      case Frame.GOAWAY:
        this.onGoaway(payload);
        return;
      case Frame.WINDOW_UPDATE:
        this.onWindowUpdate(streamId, payload);
        return;
      case Frame.PUSH_PROMISE:
        throw new ProtocolError(H2Code.PROTOCOL_ERROR, "a PUSH_PROMISE, though push is disabled");
      default:
        return; // unknown frame types are ignored (RFC 9113 section 4.1)
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    this.consumed(payload.length);
    const stream = this.streams.get(streamId);
    if (!stream) return;
    stream.received(unpad(flags, payload), (flags & END_STREAM) !== 0);
    if (!stream.remoteClosed) stream.refill(payload.length);
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    let fragment = unpad(flags, payload);
    if (flags & PRIORITY) fragment = fragment.subarray(5);
    this.block = {
      streamId,
      parts: [fragment],
      bytes: fragment.length,
      endStream: (flags & END_STREAM) !== 0,
    };
    if (flags & END_HEADERS) this.endBlock();
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const block = this.block;
    if (!block || block.streamId !== streamId) {
      throw new ProtocolError(H2Code.PROTOCOL_ERROR, "a CONTINUATION frame without its HEADERS");
    }
    block.parts.push(payload);
    block.bytes += payload.length;
    if (block.bytes > 1024 * 1024)
      throw new ProtocolError(H2Code.PROTOCOL_ERROR, "a header block over 1 MiB");
    if (flags & END_HEADERS) this.endBlock();
  }

  private endBlock(): void {
    const block = this.block as NonNullable<H2Session["block"]>;
    this.block = undefined;
    // Decoded even for a stream we already forgot: the decoder's table must see every block.
    const fields = this.decoder.decode(
      block.parts.length === 1 ? (block.parts[0] as Buffer) : Buffer.concat(block.parts),
    );
    this.streams.get(block.streamId)?.onHeaders(fields, block.endStream);
  }

  private onSettings(payload: Buffer): void {
    if (payload.length % 6 !== 0) throw new ProtocolError(H2Code.FRAME_SIZE_ERROR, "a SETTINGS frame");
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === SETTINGS_INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW)
          throw new ProtocolError(H2Code.FLOW_CONTROL_ERROR, "an initial window over 2^31-1");
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      } else if (id === SETTINGS_MAX_FRAME_SIZE) {
        if (value < 16_384 || value > 16_777_215)
          throw new ProtocolError(H2Code.PROTOCOL_ERROR, "a bad MAX_FRAME_SIZE");
        this.peerMaxFrame = value;
      }
      // HEADER_TABLE_SIZE (1) limits the server's decoder table, which our encoder never adds to.
    }
    this.socket.write(frame(Frame.SETTINGS, ACK, 0, EMPTY));
    for (const stream of [...this.streams.values()]) this.flush(stream);
  }

  private onGoaway(payload: Buffer): void {
    if (payload.length < 8) throw new ProtocolError(H2Code.FRAME_SIZE_ERROR, "a GOAWAY frame");
    const lastStreamId = payload.readUInt32BE(0) & MAX_WINDOW;
    const code = payload.readUInt32BE(4);
    const wasGoing = this.goingAway;
    this.goingAway = true;
    // Streams above the last one the server processed never ran: they may be retried elsewhere.
    const refused = new Error(`the server is going away (GOAWAY, HTTP/2 error ${code})`);
    for (const stream of [...this.streams.values()]) if (stream.id > lastStreamId) stream.abort(refused);
    if (!wasGoing) this.emit("goaway");
    if (this.streams.size === 0) this.destroy();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ProtocolError(H2Code.FRAME_SIZE_ERROR, "a WINDOW_UPDATE frame");
    const increment = payload.readUInt32BE(0) & MAX_WINDOW;
    if (streamId === 0) {
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW)
        throw new ProtocolError(H2Code.FLOW_CONTROL_ERROR, "a window over 2^31-1");
      for (const stream of [...this.streams.values()]) this.flush(stream);
      return;
    }
    const stream = this.streams.get(streamId);
    if (!stream) return;
    stream.sendWindow += increment;
    this.flush(stream);
  }

  /** Hands received connection-level bytes back to the server once enough have piled up. */
  private consumed(bytes: number): void {
    this.unacknowledged += bytes;
    if (this.unacknowledged < WINDOW_REFILL) return;
    this.socket.write(windowUpdate(0, this.unacknowledged));
    this.unacknowledged = 0;
  }

  /** @internal */
  writeWindowUpdate(streamId: number, increment: number): void {
    if (!this.destroyed) this.socket.write(windowUpdate(streamId, increment));
  }

  /** A connection error: tell the server why (GOAWAY) and end everything. */
  private fail(code: number, what: string): void {
    const message = `HTTP/2 protocol error from the server: ${what} (error ${code})`;
    const goaway = Buffer.alloc(8);
    goaway.writeUInt32BE(code, 4);
    this.socket.write(frame(Frame.GOAWAY, 0, 0, goaway));
    this.destroy(new Error(message), true);
  }
}
