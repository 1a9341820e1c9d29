// What every request of one Http1Proxy shares, and what an exchange needs of its client connection.
import type { Socket } from "node:net";
import { completeRequest } from "../http/complete";
import type { Mirrors } from "../http/mirror";
import type { RequestContext, RequestHooks } from "../http/route";
import type { Direction, Metrics } from "../telemetry/metrics";
import type { UpstreamPool } from "./pool";

export interface Shared {
  direction: Direction;
  /** This proxy's Via entry. */
  via: string;
  metrics: Metrics;
  hooks: RequestHooks;
  pool: UpstreamPool;
  /** Set on drain: responses carry `Connection: close` and the connection closes after them. */
  draining: boolean;
  /** Requests in flight (Http1Proxy.active). */
  inFlight: number;
  /** Where copies for a route's mirror go out (outbound only); absent: none are sent. */
  mirrors?: Mirrors;
}

/** A parsed request head. */
export interface RequestHead {
  method: string;
  path: string;
  versionMinor: number;
  /** Flat name/value list as the client sent it. */
  headers: string[];
  /** The client keeps the connection open after this request (llhttp's reading of it). */
  keepAlive: boolean;
  upgrade: boolean;
}

/** The client connection as one exchange sees it. */
export interface ClientLink {
  readonly socket: Socket;
  readonly address: string | undefined;
  /** The caller's identity when the connection came over mutual TLS. */
  readonly peerIdentity: string | undefined;
  /** Upstream backpressure on the request body: stop (true) or go on (false) reading the client. */
  holdBody(hold: boolean): void;
  /** The exchange is over; `close`: the connection must not carry another request. */
  exchangeEnded(close: boolean): void;
  /** After a 101: the client socket is piped to `upstream` from now on. */
  upgraded(upstream: Socket, upstreamHead: Buffer): void;
}

/** The end of one exchange: metrics (with the status the client got) and onComplete, once. */
export function record(shared: Shared, ctx: RequestContext, status: number, received: number): void {
  shared.inFlight--;
  ctx.bytesReceived = received;
  completeRequest(shared.metrics, shared.hooks, ctx, status);
}
