// Upstream connections for HTTP/1.1, pooled per host:port: keep-alive, reused last-in first-out
// (the warmest socket, and the others age out), each with its own response parser. A pooled
// socket idle for IDLE_MS is closed: Node apps close idle keep-alive connections at 5 s, and a
// request sent on a socket the app is closing would fail. A mutual TLS connection goes to the
// endpoint's sidecar, which keeps an idle one for its keep-alive time (60 s by default), so it is
// kept for half of the pool owner's own (the sidecars of a mesh run with the same flags): a call
// every few seconds then pays no new handshake. A connection carries one request at a time; whoever
// holds it (a ResponseSink) hears its response and its failure.
import type { Socket } from "node:net";
import type { Dial } from "../tcp/dial";
import type { AttemptTarget } from "../upstream/plan";
import { type BorrowedReads, owned, readBorrowed } from "./borrowed-reads";
import { createParser, isParseError, type LlhttpParser } from "./parser";

/** Pooled sockets to an app idle this long are never reused. */
export const IDLE_MS = 4000;
const SWEEP_MS = 500;
/** A connect that takes longer than this is a connect failure (without a per-try timeout). */
const CONNECT_TIMEOUT_MS = 10_000;

export type FailureKind = "connect-failure" | "reset";

/** The holder of a connection: the attempt whose request is on it. */
export interface ResponseSink {
  /** Connected (a fresh socket) or handed over from the pool: the request may be written. */
  onUpstreamReady(conn: UpstreamConn): void;
  /** A response head, final or 1xx; returns what the parser should do next (parser.ts). */
  onResponseHead(
    status: number,
    reason: string,
    headers: string[],
    keepAlive: boolean,
    upgrade: boolean,
  ): number;
  onResponseBody(chunk: Buffer): void;
  onResponseEnd(trailers: string[] | undefined): void;
  /** The bytes after a 101 head; the socket is the sink's from now on. */
  onUpgraded(socket: Socket, rest: Buffer): void;
  /** The connection failed before the response ended. `responded`: some response byte came. */
  onUpstreamFailure(kind: FailureKind, error: string): void;
  onUpstreamDrain(): void;
  /** Where the response goes: corked while one read is parsed, so a head and body leave in one write. */
  readonly downstream: Socket;
}

export class UpstreamConn {
  readonly socket: Socket;
  readonly key: string;
  sink: ResponseSink | null = null;
  connected = false;
  /** Requests sent on this connection, including the current one. */
  requests = 0;
  limit = 0;
  idleSince = 0;
  /** How long it may idle in the pool: IDLE_MS, or the pool's mesh limit once it is mutual TLS. */
  idleLimitMs = IDLE_MS;
  /** The last response allowed keep-alive. */
  reusable = true;
  private parser: LlhttpParser;
  private partial: string[] = [];
  private inBody = false;
  private upgraded = false;
  private readonly reads: BorrowedReads;

  constructor(
    private readonly pool: UpstreamPool,
    target: AttemptTarget,
    key: string,
    dial: Dial,
  ) {
    this.key = key;
    this.limit = target.maxRequestsPerConnection;
    this.parser = createParser("response", {
      onHeaders: (h) => {
        for (const x of h) this.partial.push(x);
      },
      onHeadersComplete: (_maj, _min, headers, _m, _u, status, reason, upgrade, keepAlive) => {
        let h = headers;
        if (h === undefined) {
          h = this.partial;
          this.partial = [];
        }
        const sink = this.sink;
        if (!sink) return 1;
        if (!keepAlive) this.reusable = false;
        const code = status ?? 0;
        if (code >= 200) this.inBody = true;
        const r = sink.onResponseHead(code, reason ?? "", h, keepAlive, upgrade);
        if (upgrade && code === 101) this.upgraded = true;
        return r;
      },
      onBody: (chunk) => this.sink?.onResponseBody(chunk),
      onMessageComplete: () => {
        if (!this.inBody) return; // a 1xx head: the final response follows on the same parser
        this.inBody = false;
        let trailers: string[] | undefined;
        if (this.partial.length > 0) {
          trailers = this.partial;
          this.partial = [];
        }
        const sink = this.sink;
        if (sink && !this.upgraded) sink.onResponseEnd(trailers);
      },
    });
    const dialed = dial(target, false);
    this.socket = dialed.socket;
    this.socket.setTimeout(CONNECT_TIMEOUT_MS);
    this.socket.on("timeout", () =>
      this.socket.destroy(new Error(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`)),
    );
    // With mutual TLS, ready once the handshake is done (a refused certificate is a connect failure).
    this.socket.once(dialed.readyEvent, () => {
      this.connected = true;
      if (dialed.readyEvent === "secureConnect") this.idleLimitMs = pool.meshIdleMs;
      this.socket.setTimeout(0);
      this.sink?.onUpstreamReady(this);
    });
    this.reads = readBorrowed(this.socket, (d, borrowed) => this.onData(d, borrowed));
    this.socket.on("drain", () => this.sink?.onUpstreamDrain());
    this.socket.on("end", () => {
      // A response without length ends here; anything else cut short is a failure.
      if (this.sink && this.inBody) {
        const r = this.parser.finish();
        if (isParseError(r)) this.fail("reset", `upstream closed mid-response (${r.reason ?? r.code})`);
      }
      this.socket.destroy();
    });
    this.socket.on("error", (err: NodeJS.ErrnoException) =>
      this.fail(this.connected ? "reset" : "connect-failure", err.message),
    );
    this.socket.on("close", () => {
      this.fail(this.connected ? "reset" : "connect-failure", "upstream closed the connection");
      this.pool.forget(this);
      this.parser.close();
    });
  }

  /** Takes the connection for one request. */
  hold(sink: ResponseSink): void {
    this.sink = sink;
    this.requests++;
    if (this.limit > 0 && this.requests >= this.limit) this.reusable = false;
  }

  /** Whether this request must tell the upstream it is the last on the connection. */
  get lastRequest(): boolean {
    return this.limit > 0 && this.requests >= this.limit;
  }

  /** Done with it: back to the pool when it can carry another request, else closed. */
  release(): void {
    this.sink = null;
    if (!this.reusable || this.inBody || this.socket.destroyed || this.upgraded) return void this.discard();
    this.pool.park(this);
  }

  /** Closed without reuse (a discarded attempt, a cancelled request). */
  discard(): void {
    this.sink = null;
    this.socket.destroy();
  }

  /** After a 101 the socket leaves HTTP: no parser, no pool. */
  detach(): void {
    this.sink = null;
    this.reads.toDataEvents();
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("end");
    this.socket.removeAllListeners("drain");
    this.socket.removeAllListeners("close");
    this.socket.removeAllListeners("error");
    this.socket.removeAllListeners("timeout");
    this.parser.close();
    this.pool.forget(this);
  }

  private onData(d: Buffer, borrowed: boolean): void {
    const sink = this.sink;
    if (!sink) return void this.socket.destroy(); // bytes on an idle connection: nothing to frame
    const out = sink.downstream;
    out.cork();
    const r = this.parser.execute(d);
    out.uncork();
    if (isParseError(r)) {
      this.fail("reset", `upstream sent a malformed response (${r.reason ?? r.code})`);
      this.socket.destroy();
      return;
    }
    if (this.upgraded && this.sink === sink) {
      this.detach();
      sink.onUpgraded(this.socket, owned(d.subarray(r), borrowed));
    }
  }

  private fail(kind: FailureKind, error: string): void {
    const sink = this.sink;
    this.sink = null;
    this.reusable = false;
    sink?.onUpstreamFailure(kind, error);
  }
}

export class UpstreamPool {
  private readonly idle = new Map<string, UpstreamConn[]>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly dial: Dial,
    /** How long a mutual TLS connection to a peer sidecar may idle (at least IDLE_MS). */
    readonly meshIdleMs: number,
  ) {}

  /** A connection to the target for `sink`: a pooled one when a fresh enough one is idle. */
  acquire(target: AttemptTarget, sink: ResponseSink): UpstreamConn {
    const key = this.dial.keyOf(target);
    const stack = this.idle.get(key);
    const now = performance.now();
    while (stack && stack.length > 0) {
      const conn = stack.pop() as UpstreamConn;
      if (now - conn.idleSince < conn.idleLimitMs && !conn.socket.destroyed) {
        conn.limit = target.maxRequestsPerConnection;
        conn.hold(sink);
        return conn;
      }
      conn.discard();
    }
    const conn = new UpstreamConn(this, target, key, this.dial);
    conn.hold(sink);
    return conn;
  }

  park(conn: UpstreamConn): void {
    conn.idleSince = performance.now();
    // Backpressure may have paused it on the last chunk; idle, it must still notice a close.
    conn.socket.resume();
    let stack = this.idle.get(conn.key);
    if (!stack) {
      stack = [];
      this.idle.set(conn.key, stack);
    }
    stack.push(conn);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
  }

  forget(conn: UpstreamConn): void {
    const stack = this.idle.get(conn.key);
    if (!stack) return;
    const i = stack.indexOf(conn);
    if (i >= 0) stack.splice(i, 1);
    if (stack.length === 0) this.idle.delete(conn.key);
  }

  /** Idle connections now, for tests and metrics. */
  idleCount(): number {
    let n = 0;
    for (const s of this.idle.values()) n += s.length;
    return n;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const stack of [...this.idle.values()]) for (const c of [...stack]) c.discard();
    this.idle.clear();
  }

  /** Closes what would be too old by the next sweep: nothing idle outlives its limit. */
  private sweep(): void {
    const now = performance.now();
    for (const stack of [...this.idle.values()]) {
      // Oldest first (LIFO: the bottom of the stack); one key's connections share a limit.
      while (stack.length > 0) {
        const oldest = stack[0] as UpstreamConn;
        if (oldest.idleSince > now - (oldest.idleLimitMs - SWEEP_MS)) break;
        (stack.shift() as UpstreamConn).discard();
      }
    }
    for (const [k, s] of this.idle) if (s.length === 0) this.idle.delete(k);
    if (this.idle.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
