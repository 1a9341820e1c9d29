// What the HTTP proxies (HTTP/1.1 and HTTP/2) ask of the layer above them, and the per-request
// hook point. A listener hands over a connection with an HttpRoute; the proxies call `plan` once
// per request with what they parsed, so the routing layer (matches, weighted splits, load
// balancing, retries, faults: upstream/) decides per request, and `hooks` see every request start
// and end (tracing and access logs: issue #8).
import type { Direction } from "../telemetry/metrics";
import type { Refusal, RequestPlan } from "../upstream/plan";
import type { HeaderPairs } from "./headers";

/** A request the route answers itself, with the route that matched when one did. */
export type RouteRefusal = Refusal & { route?: string };

/** The parts of a request a routing decision may look at. */
export interface RequestInfo {
  method: string;
  /** Path and query as the client sent them. */
  path: string;
  authority: string;
  headers: HeaderPairs;
  protocol: "http1" | "h2";
  /** An h2 request with a gRPC content type (set by the h2 proxy, which reads it once). */
  grpc?: boolean;
  /** The client's address (inbound: the calling workload; outbound: the app). */
  clientAddress?: string;
  /** Inbound over mutual TLS: the caller's SPIFFE identity, proven by its certificate. */
  peerIdentity?: string;
}

/** What a listener decided for one connection. */
export interface HttpRoute {
  /** For metrics and messages. */
  service: string;
  /**
   * The Host an HTTP/1.0 request without one is forwarded with (upstream it becomes HTTP/1.1, which
   * needs one): where the client was going, as SERVICE:PORT. Absent: such a request goes as it came.
   */
  authority?: string;
  /**
   * The plan for one request (upstream/plan.ts says how a proxy runs it), or a refusal to answer as
   * is. Without a request: the plan for an opaque TCP connection (no route matching or retries of
   * requests; a failed connect may still go to another endpoint).
   */
  plan(request?: RequestInfo): RequestPlan | RouteRefusal;
}

/** One request as the hooks see it; `status`, `upstream` and `durationMs` are filled in as it goes. */
export interface RequestContext {
  direction: Direction;
  service: string;
  route: string;
  requestId: string;
  request: RequestInfo;
  startedAt: number;
  upstream?: string;
  status?: number;
  durationMs?: number;
  /** The reason when the proxy answered (or failed) itself rather than the upstream. */
  error?: string;
  /** Body bytes from the client and from the upstream's response (DATA payloads on h2). */
  bytesReceived?: number;
  bytesSent?: number;
  /** How many times the request was sent again after a failed attempt (the plan's retries). */
  retries: number;
  /** What the hooks keep for this request (the tracing span). */
  telemetry?: unknown;
}

/**
 * A request's context with every field present from the start: contexts then share one hidden
 * class, where fields added as the exchange went on (and the hooks' own) made the proxies' code that
 * reads them see several.
 */
export function requestContext(
  direction: Direction,
  service: string,
  requestId: string,
  request: RequestInfo,
): RequestContext {
  return {
    direction,
    service,
    route: "default",
    requestId,
    request,
    startedAt: performance.now(),
    upstream: undefined,
    status: undefined,
    durationMs: undefined,
    error: undefined,
    bytesReceived: undefined,
    bytesSent: undefined,
    retries: 0,
    telemetry: undefined,
  };
}

export interface RequestHooks {
  /** Before the request goes upstream; may add headers (trace context) to `ctx.request.headers`. */
  onRequest?(ctx: RequestContext): void;
  /** Once, when the exchange is over (completed, refused or aborted). */
  onComplete?(ctx: RequestContext): void;
}
