// HTTP/1.1 proxying on raw sockets, for connections a listener has already accepted and routed,
// without node:http on the hot path (its objects and streams cost most of a node:http proxy's
// time). Each client socket gets an llhttp parser (connection.ts); each request runs its route's
// plan (exchange.ts) over pooled keep-alive upstream connections (pool.ts). Header and keep-alive timeouts are
// checked by one sweep for all connections rather than a timer per request.
import type { Socket } from "node:net";
import type { Mirrors } from "../http/mirror";
import type { HttpRoute, RequestHooks } from "../http/route";
import { viaEntry } from "../http/via";
import { type Dial, plainDial } from "../tcp/dial";
import type { Direction, Metrics } from "../telemetry/metrics";
import { ClientConnection } from "./connection";
import { IDLE_MS, UpstreamPool } from "./pool";
import type { Shared } from "./shared";

export interface Http1ProxyOptions {
  direction: Direction;
  /** Names this proxy in Via headers. */
  workload: string;
  metrics: Metrics;
  /** A client must finish sending request headers within this. Default 10000 ms. */
  headerTimeoutMs?: number;
  /** A connection with no bytes either way for this long is closed. Default 300000 ms. */
  idleTimeoutMs?: number;
  hooks?: RequestHooks;
  log?: (message: string) => void;
  /** Where copies for a route's mirror go out; absent: none are sent. */
  mirrors?: Mirrors;
  /** How upstream connections are opened. Default: plain TCP. */
  dial?: Dial;
}

export class Http1Proxy {
  private readonly shared: Shared;
  private readonly connections = new Set<ClientConnection>();
  private readonly headerTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  /** Between requests a connection may idle this long (as node:http's keepAliveTimeout). */
  private readonly keepAliveMs: number;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly sweepMs: number;

  constructor(options: Http1ProxyOptions) {
    this.headerTimeoutMs = options.headerTimeoutMs ?? 10_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    this.keepAliveMs = Math.min(this.idleTimeoutMs, 60_000);
    this.sweepMs = Math.max(
      25,
      Math.min(1000, Math.floor(Math.min(this.headerTimeoutMs, this.keepAliveMs) / 4)),
    );
    this.shared = {
      direction: options.direction,
      via: viaEntry(options.workload, options.direction),
      metrics: options.metrics,
      hooks: options.hooks ?? {},
      // A peer sidecar keeps an idle connection for its keep-alive time: ours, as the mesh's
      // sidecars run with the same flags; half of it leaves the close far from a reuse.
      pool: new UpstreamPool(options.dial ?? plainDial, Math.max(IDLE_MS, Math.floor(this.keepAliveMs / 2))),
      draining: false,
      ...(options.mirrors ? { mirrors: options.mirrors } : {}),
      inFlight: 0,
    };
  }

  /** Serves HTTP on an accepted socket (bytes read by detection are back in it); the connection
   * resumes it. */
  handle(socket: Socket, route: HttpRoute): void {
    if (socket.destroyed) return;
    socket.setNoDelay(true);
    if (this.idleTimeoutMs > 0) socket.setTimeout(this.idleTimeoutMs);
    const conn = new ClientConnection(this.shared, socket, route, (c) => this.connections.delete(c));
    this.connections.add(conn);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), this.sweepMs);
      this.sweeper.unref();
    }
  }

  /** Requests being proxied right now. */
  get active(): number {
    return this.shared.inFlight;
  }

  /** From now on every response says `Connection: close`; idle connections are closed now. */
  startDrain(): void {
    this.shared.draining = true;
    this.closeIdle();
  }

  /** Closes client connections that sit idle between requests (for draining). */
  closeIdle(): void {
    for (const c of [...this.connections]) c.closeIfIdle();
  }

  /** Stops everything, in-flight or not. */
  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const c of [...this.connections]) c.socket.destroy();
    this.connections.clear();
    this.shared.pool.close();
  }

  /** Bytes the proxy holds in memory for its connections now (socket buffers, queued bodies). */
  bufferedBytes(): number {
    let n = 0;
    for (const c of this.connections) n += c.buffered();
    return n;
  }

  /** Idle pooled upstream connections (tests). */
  get pooledConnections(): number {
    return this.shared.pool.idleCount();
  }

  private sweep(): void {
    if (this.connections.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    const now = performance.now();
    for (const c of this.connections) {
      if (c.headerStart > 0 && now - c.headerStart > this.headerTimeoutMs) c.headerTimedOut();
      else if (c.idleSince > 0 && now - c.idleSince > this.keepAliveMs) c.closeIfIdle();
    }
  }
}
