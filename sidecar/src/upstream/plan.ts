// The contract between the proxies (HTTP/1.1, HTTP/2, TCP) and the routing layer (issue #7). A
// proxy asks its HttpRoute to resolve a request and gets a RequestPlan: which route matched, an
// injected fault to apply, the timeouts, and the attempts. The proxy runs the attempts:
//
//   plan.fault: wait fault.delayMs; if fault.abortStatus, answer that status and stop.
//   loop:
//     target = plan.next()            an endpoint (counted in flight), or a refusal to answer as is
//     send the request to target      (connect, write, wait for the response head)
//     retry = plan.ended(target, outcome, replayable)
//     retry? discard this attempt's response and loop; else answer from this attempt (or 502/504)
//
// `replayable` is the proxy's promise that it can send the same request again: nothing of the
// response has reached the client and the whole request body is still at hand (no body, or one it
// buffered). The plan decides the rest (method idempotent, status or failure retryable, attempts
// and retry budget left). Every next() is matched by exactly one ended(), also when the client went
// away ("cancelled"), so in-flight counts, latency and outlier detection stay right.
// Timeouts are the proxy's to run: perTryTimeoutMs per attempt (outcome "timeout", may be retried),
// timeoutMs over the whole request (504 when no response has started; then the plan is not asked).

import type { HeaderModifiersConfig } from "../config/header-edits";

/** Where one attempt goes. */
export interface AttemptTarget {
  host: string;
  port: number;
  /** The endpoint's id, for metrics and logs ("address:port" when it has none). */
  endpoint: string;
  /**
   * The proxy closes the upstream connection after this many requests on it (circuit breaker
   * max_requests_per_connection); 0: no limit.
   */
  maxRequestsPerConnection: number;
  /**
   * The endpoint's service when the endpoint has a sidecar that takes mutual TLS and the service's
   * mode is not DISABLE: the connection is mutual TLS to that service's identity, if this sidecar
   * has a certificate. "" for plain text.
   */
  meshTlsService: string;
}

/** A request the routing layer answers itself (no endpoints, circuit breaker overflow, rate limit). */
export interface Refusal {
  status: number;
  /** The body: one line a user can act on, ending in "\n". */
  message: string;
  /** Set when the refusal is a circuit-breaker overflow (metrics, the `x-weft-overflow` header). */
  overflow?: "pending-requests" | "connections";
  /** A route's redirect: the answer's Location (and a 3xx status). */
  location?: string;
  /**
   * Set when the sidecar's own rate limit refused the request (a 429): which limit ("instance" or
   * "route PATH") and when to try again (Retry-After, `x-weft-ratelimited`; gRPC RESOURCE_EXHAUSTED).
   */
  rateLimited?: { limit: string; retryAfterSeconds: number };
  /** Set when the service's AuthorizationPolicy denied the request (a 403): which policy and rule. */
  denied?: { policy: string; by: string };
}

export type AttemptOutcome =
  /** The upstream answered with a response head. latencyMs: attempt start to response head. */
  | { kind: "response"; status: number; latencyMs: number }
  /** No connection could be made (refused, unreachable, connect timeout). */
  | { kind: "connect-failure"; error: string }
  /** The connection broke before a response head (reset, closed early). */
  | { kind: "reset"; error: string }
  /** perTryTimeoutMs passed before a response head. */
  | { kind: "timeout" }
  /** The client went away or the whole-request timeout fired: never retried. */
  | { kind: "cancelled" };

/** An injected fault (fault injection for testing): both parts apply to this request. */
export interface InjectedFault {
  /** Wait this long before doing anything else; 0: no delay. */
  delayMs: number;
  /** Answer with this status instead of forwarding; 0: forward. */
  abortStatus: number;
}

export interface RewrittenRequest {
  target?: string;
  authority?: string;
}

/** Where a copy of the request goes (the rule's mirror), drawn for this request. */
export interface MirrorTarget {
  host: string;
  port: number;
  /** The endpoint's id ("address:port"), for metrics. */
  endpoint: string;
  /** As AttemptTarget's: the copy goes in mutual TLS as the request itself would to that endpoint. */
  meshTlsService: string;
}

export interface RequestPlan {
  /** The route that matched, for metrics and logs ("default" when none). */
  route: string;
  /**
   * A copy of this request goes here too, its answer discarded (the proxy sends it once the
   * request is whole, when it holds the whole body). Absent: no copy, or none drawn this time.
   */
  mirror?: MirrorTarget;
  fault?: InjectedFault;
  /**
   * The matched rule's header changes: `request` before the request goes upstream (after the
   * sidecar's own forwarding changes), `response` on the upstream's response head before it reaches
   * the caller (not on an answer the sidecar makes itself). Absent: none.
   */
  headers?: HeaderModifiersConfig;
  /** The matched rule's rewrite, worked out for this request: the target (path and query) and
   * the authority it goes upstream with. Absent: as the client sent them. */
  rewrite?: RewrittenRequest;
  /** Whole request, from the proxy's first byte in to the response head out; 0: none. */
  timeoutMs: number;
  /** Per attempt, from attempt start to response head; 0: none. */
  perTryTimeoutMs: number;
  /** The endpoint for the next attempt, or a refusal the proxy answers with as is. */
  next(): AttemptTarget | Refusal;
  /** How the attempt to `target` ended. True: try again (only ever when `replayable`). */
  ended(target: AttemptTarget, outcome: AttemptOutcome, replayable: boolean): boolean;
}

/**
 * The headers that tell a refusal apart (clients, tests, dashboards): a circuit-breaker overflow's
 * `x-weft-overflow`; a rate limit's `retry-after` and `x-weft-ratelimited`; an authorization denial's
 * `x-weft-denied` (policy and rule). Undefined when none.
 */
export function refusalHeaders(r: Refusal): Record<string, string> | undefined {
  if (r.overflow) return { "x-weft-overflow": r.overflow };
  if (r.rateLimited)
    return {
      "retry-after": String(r.rateLimited.retryAfterSeconds),
      "x-weft-ratelimited": r.rateLimited.limit,
    };
  if (r.denied) return { "x-weft-denied": `${r.denied.policy} ${r.denied.by}` };
  return undefined;
}

/** Tells a refusal from a target or a plan (neither has a status). */
export function isRefusal<T extends AttemptTarget | RequestPlan>(t: T | Refusal): t is Refusal {
  return (t as Refusal).status !== undefined;
}

/** Methods that may be sent twice (RFC 9110 9.2.2). */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "OPTIONS",
  "TRACE",
  "PUT",
  "DELETE",
]);

/** Largest request body a proxy holds on to so the request stays replayable (as Linkerd: 64 KiB). */
export const REPLAY_BODY_LIMIT_BYTES = 64 * 1024;
