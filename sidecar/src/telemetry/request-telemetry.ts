// Tracing and access logging as the HTTP proxies' request hooks: a span starts when a request is
// about to go upstream (and its context is written into the headers that go), and ends with an
// access-log line when the exchange is over. Settings follow the control plane's telemetry config
// for this workload's service (or "default") and change live.

import type { TelemetrySettings } from "../config/types";
import type { HeaderPairs } from "../http/headers";
import type { RequestContext, RequestHooks } from "../http/route";
import type { AccessLog } from "./access-log";
import type { HeaderBag } from "./trace-context";
import { type MeshTracer, type RequestSpan, traceIdOf } from "./tracing";

/** Each trace header by its lower-case name, mapped to that name as a literal: a bag keyed by the
 * literal is not keyed by a fresh string that V8 must look up in its string table first. */
const TRACE_HEADERS = new Map(
  [
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
  ].map((n) => [n, n]),
);

/** The canonical name when `k` is a trace header (a first-letter check skips the rest without
 * lower-casing them). */
function traceHeader(k: string): string | undefined {
  const c = k.charCodeAt(0) | 0x20;
  if (c !== 116 && c !== 98 && c !== 120) return undefined; // t, b, x
  return TRACE_HEADERS.get(k.toLowerCase());
}

/** The trace headers among a request's. */
function bagOf(pairs: HeaderPairs): HeaderBag | undefined {
  let bag: HeaderBag | undefined;
  for (const [k, v] of pairs) {
    const name = traceHeader(k);
    if (name === undefined) continue;
    bag ??= {};
    bag[name] = v;
  }
  return bag;
}

function onlyTraceparent(bag: HeaderBag): boolean {
  for (const k in bag) if (k !== "traceparent") return false;
  return true;
}

const NO_HEADERS: HeaderBag = Object.freeze({}) as HeaderBag;

/** As spans and access-log lines name it. */
function protocolOf(req: RequestContext["request"]): "http/1.1" | "grpc" | "h2" {
  return req.protocol === "http1" ? "http/1.1" : req.grpc ? "grpc" : "h2";
}

const DEFAULT_TRACING = { enabled: true, samplingRatio: 1, otlpEndpoint: "", resourceAttributes: {} };

export class RequestTelemetry implements RequestHooks {
  constructor(
    private readonly tracer: MeshTracer,
    private readonly accessLog: AccessLog,
  ) {}

  /** Applies the telemetry config in force for this workload; without one, the defaults: every
   * request traced to the control plane and access-logged there (what a dashboard needs). */
  configure(settings: TelemetrySettings | undefined): void {
    this.accessLog.configure(settings?.logging);
    this.tracer.configure(settings?.tracing ?? DEFAULT_TRACING);
  }

  onRequest(ctx: RequestContext): void {
    if (!this.tracer.enabled) return;
    const req = ctx.request;
    const incoming = bagOf(req.headers);
    const span = this.tracer.start(incoming ?? NO_HEADERS, {
      direction: ctx.direction,
      method: req.method,
      path: req.path,
      authority: req.authority,
      protocol: protocolOf(req),
      service: ctx.service,
      // Inbound, who called (the calling workload); outbound it would be our own app.
      peerAddress: ctx.direction === "inbound" ? req.clientAddress : undefined,
      peerIdentity: req.peerIdentity,
      route: ctx.route,
    });
    // Kept on its context (a declared field, so contexts keep one shape): read at completion.
    ctx.telemetry = span;
    // The next hop's parent is this span: replace what the caller sent, keep everything else.
    let headers = req.headers;
    if (incoming) headers = req.headers = headers.filter(([k]) => traceHeader(k) === undefined);
    // The common hop: nothing came but a traceparent, and a traceparent is all that goes.
    const traceparent = span.traceparent();
    if (traceparent !== undefined && (incoming === undefined || onlyTraceparent(incoming))) {
      headers.push(["traceparent", traceparent]);
      return;
    }
    const out: HeaderBag = incoming ? { ...incoming } : {};
    span.inject(out);
    for (const k in out) {
      const v = out[k];
      if (typeof v === "string") headers.push([k, v]);
    }
  }

  onComplete(ctx: RequestContext): void {
    const span = ctx.telemetry as RequestSpan | undefined;
    const status = ctx.status ?? 0;
    span?.end({ status, error: ctx.error, upstream: ctx.upstream, retries: ctx.retries });
    if (!this.accessLog.wants(status)) return;
    const req = ctx.request;
    this.accessLog.record({
      direction: ctx.direction,
      method: req.method,
      authority: req.authority,
      path: req.path,
      protocol: protocolOf(req),
      status,
      durationMs: ctx.durationMs ?? 0,
      bytesReceived: ctx.bytesReceived ?? 0,
      bytesSent: ctx.bytesSent ?? 0,
      upstream: ctx.upstream ?? "",
      service: ctx.service,
      traceId: span?.traceId || traceIdOf(bagOf(req.headers) ?? NO_HEADERS),
      spanId: span?.spanId ?? "",
      requestId: ctx.requestId,
      peer: req.clientAddress ?? "",
      peerIdentity: req.peerIdentity ?? "",
    });
  }
}
