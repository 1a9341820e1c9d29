// One client connection of the lean HTTP/1.1 proxy: llhttp parses what the client sends, one
// request at a time in order (a pipelined request's head pauses the parser until the one before it
// is answered), malformed input gets 400 (431 for an oversized head) and the connection closed,
// and after a 101 the socket is piped raw to the upstream's.

import type { Socket } from "node:net";
import type { HttpRoute } from "../http/route";
import { peerIdentityOf } from "../identity/mesh-tls";
import { type BorrowedReads, owned, readBorrowed } from "./borrowed-reads";
import { Exchange } from "./exchange";
import {
  createParser,
  isParseError,
  type LlhttpParser,
  METHODS,
  PARSE_ON,
  PAUSE,
  type ParseError,
} from "./parser";
import type { ClientLink, RequestHead, Shared } from "./shared";
import { plainAnswer } from "./wire";

const EMPTY = Buffer.alloc(0);

export class ClientConnection implements ClientLink {
  readonly address: string | undefined;
  readonly peerIdentity: string | undefined;
  /** When the head being waited for began (performance.now()); 0: not waiting for one. */
  headerStart = 0;
  /** When the connection went idle between requests; 0: not idle. */
  idleSince = 0;
  closed = false;
  private readonly parser: LlhttpParser;
  private partial: string[] = [];
  private partialUrl = "";
  private inMessage = false;
  private current: Exchange | null = null;
  /** A pipelined head parsed while `current` runs, and the bytes after it. */
  private queued: RequestHead | null = null;
  private stash: Buffer | null = null;
  private deferred: ParseError | null = null;
  private holding = false;
  private upgrading: Buffer[] | null = null;
  /** The client ended its side: close once the request in flight is answered. */
  private peerEnded = false;
  private readonly reads: BorrowedReads;

  constructor(
    private readonly shared: Shared,
    readonly socket: Socket,
    private readonly route: HttpRoute,
    private readonly onClose: (c: ClientConnection) => void,
  ) {
    this.address = socket.remoteAddress;
    this.peerIdentity = peerIdentityOf(socket);
    this.parser = createParser("request", {
      onHeaders: (h, url) => {
        for (const x of h) this.partial.push(x);
        if (!this.inMessage) this.partialUrl += url;
      },
      onHeadersComplete: (maj, min, headers, method, url, _s, _r, upgrade, keepAlive) => {
        let h = headers;
        if (h === undefined) h = this.partial;
        this.partial = [];
        const path = url ?? this.partialUrl;
        this.partialUrl = "";
        this.headerStart = 0;
        this.inMessage = true;
        const head: RequestHead = {
          method: METHODS[method ?? -1] ?? "GET",
          path,
          versionMinor: maj === 1 ? min : 0,
          headers: h,
          keepAlive,
          upgrade,
        };
        if (this.current) {
          this.queued = head;
          return PAUSE;
        }
        this.current = new Exchange(shared, route, this, head);
        return PARSE_ON;
      },
      onBody: (chunk) => this.current?.body.push(chunk),
      onMessageComplete: () => {
        this.inMessage = false;
        let trailers: string[] | undefined;
        if (this.partial.length > 0) {
          trailers = this.partial;
          this.partial = [];
        }
        const ex = this.current;
        if (!ex) return;
        if (ex.head.upgrade) this.upgrading = [];
        ex.onRequestEnd(trailers);
      },
    });
    this.headerStart = performance.now();
    socket.on("drain", () => this.current?.onClientDrain());
    socket.on("end", () => this.onEnd());
    socket.on("error", () => socket.destroy());
    socket.on("timeout", () => socket.destroy());
    socket.on("close", () => {
      this.closed = true;
      this.current?.clientGone();
      this.current = null;
      this.parser.close();
      this.onClose(this);
    });
    // Last: bytes detection pushed back are handed over now, and the socket resumed.
    this.reads = readBorrowed(socket, (d, borrowed) => this.onData(d, borrowed));
  }

  /** Nothing in flight and no request begun: safe to close (drain). */
  get idle(): boolean {
    return this.current === null && this.queued === null && !this.inMessage && this.upgrading === null;
  }

  /** Bytes held for this connection now (socket buffers both ways, the exchange's). */
  buffered(): number {
    const s = this.socket;
    return s.writableLength + s.readableLength + (this.stash?.length ?? 0) + (this.current?.buffered() ?? 0);
  }

  holdBody(hold: boolean): void {
    if (hold === this.holding) return;
    this.holding = hold;
    if (hold) this.socket.pause();
    else if (!this.stash && !this.closed) this.socket.resume();
  }

  exchangeEnded(close: boolean): void {
    this.current = null;
    if (close || this.shared.draining || this.peerEnded) return void this.close();
    this.holdBody(false);
    if (this.deferred) return void this.refuse(this.deferred);
    if (this.queued) {
      // Later, not from inside the call that ended this one: a long pipeline must not nest.
      process.nextTick(() => this.nextQueued());
      return;
    }
    this.idleSince = performance.now();
  }

  upgraded(upstream: Socket, upstreamHead: Buffer): void {
    const socket = this.socket;
    const early = this.upgrading ?? [];
    this.upgrading = null;
    this.current = null;
    this.reads.toDataEvents();
    socket.removeAllListeners("data");
    socket.removeAllListeners("drain");
    socket.removeAllListeners("end");
    socket.removeAllListeners("timeout");
    // From here on the bytes are the application's: no HTTP idle timeout, errors tear down both.
    socket.setTimeout(0);
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    for (const b of early) upstream.write(b);
    const teardown = () => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.on("error", teardown);
    upstream.on("close", teardown);
    socket.on("close", teardown);
    socket.pipe(upstream);
    upstream.pipe(socket);
    socket.resume();
  }

  /** Closes now when between requests (drain, idle timeout). */
  closeIfIdle(): void {
    if (this.idle && !this.closed) this.socket.destroy();
  }

  /** Answers 408 when the head has not arrived in time. */
  headerTimedOut(): void {
    if (this.closed || this.current) return;
    this.headerStart = 0;
    this.reply(408, "request headers not received in time\n");
  }

  private onData(d: Buffer, borrowed: boolean): void {
    if (this.closed) return;
    if (this.upgrading) {
      // Bytes after an upgrade request belong to the new protocol: held until the 101.
      this.upgrading.push(owned(d, borrowed));
      this.socket.pause();
      return;
    }
    if (this.stash) {
      // The parser waits at a pipelined head: bytes queue behind it.
      this.stash = Buffer.concat([this.stash, d]);
      this.socket.pause();
      return;
    }
    if (this.current === null && this.headerStart === 0) this.headerStart = performance.now();
    this.idleSince = 0;
    this.feed(d, borrowed);
  }

  /** `borrowed`: d is the socket's read buffer, overwritten by the next read (borrowed-reads.ts). */
  private feed(d: Buffer, borrowed: boolean): void {
    const r = this.parser.execute(d);
    if (isParseError(r)) {
      if (r.code === "HPE_PAUSED") {
        this.stash = owned(d.subarray(r.bytesParsed), borrowed);
        this.socket.pause();
      } else return void this.parseFailed(r);
    } else if (this.upgrading && r < d.length) {
      this.upgrading.push(owned(d.subarray(r), borrowed));
      this.socket.pause();
    }
    const ex = this.current;
    if (ex && !ex.started) ex.start();
  }

  private nextQueued(): void {
    const head = this.queued;
    if (!head || this.closed) return;
    this.queued = null;
    this.current = new Exchange(this.shared, this.route, this, head);
    const rest = this.stash;
    this.stash = null;
    this.parser.resume();
    // Even with nothing after the head, parsing on completes a bodyless request.
    this.feed(rest ?? EMPTY, false);
    if (!this.stash && !this.holding && !this.closed && !this.upgrading) this.socket.resume();
  }

  private parseFailed(err: ParseError): void {
    const ex = this.current;
    if (ex?.requestDone) {
      // The bad bytes are a later request's: answer it once the one before is done.
      this.deferred = err;
      this.socket.pause();
      if (!ex.started) ex.start();
      return;
    }
    if (ex?.started) return void ex.requestBroken(err.reason ?? err.code);
    this.current = null;
    this.refuse(err);
  }

  private refuse(err: ParseError): void {
    if (err.code === "HPE_HEADER_OVERFLOW") return void this.reply(431, "request header fields too large\n");
    this.reply(400, `bad request: ${err.reason ?? err.code}\n`);
  }

  private reply(status: number, message: string): void {
    if (this.closed) return;
    this.socket.write(plainAnswer(status, message, this.shared.via, true));
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    // A client that never closes its side is cut off soon after; its answer is on the wire.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private onEnd(): void {
    // The client finished sending: answer what is in flight, then close.
    if (this.closed || this.upgrading) return;
    this.peerEnded = true;
    const ex = this.current;
    if (!ex) return void this.close();
    if (!ex.requestDone) ex.requestBroken("the client closed its side mid-request");
  }
}
