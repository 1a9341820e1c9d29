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

const TRACE_HEADERS = new Set([
  "traceparent",
  "tracestate",
  "b3",
  "x-b3-traceid",
  "x-b3-spanid",
  "x-b3-parentspanid",
  "x-b3-sampled",
  "x-b3-flags",
]);

function bagOf(pairs: HeaderPairs): HeaderBag {
  const bag: HeaderBag = {};
  for (const [k, v] of pairs) {
    const name = k.toLowerCase();
    if (TRACE_HEADERS.has(name)) bag[name] = v;
  }
  return bag;
}

const DEFAULT_TRACING = { enabled: true, samplingRatio: 1, otlpEndpoint: "", resourceAttributes: {} };

export class RequestTelemetry implements RequestHooks {
  private readonly spans = new WeakMap<RequestContext, RequestSpan>();

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
    const grpc = req.headers.some(
      ([k, v]) => k.toLowerCase() === "content-type" && v.startsWith("application/grpc"),
    );
    const span = this.tracer.start(incoming, {
      direction: ctx.direction,
      method: req.method,
      path: req.path,
      authority: req.authority,
      protocol: req.protocol === "http1" ? "http/1.1" : grpc ? "grpc" : "h2",
      service: ctx.service,
      route: ctx.route,
    });
    this.spans.set(ctx, span);
    const out: HeaderBag = { ...incoming };
    span.inject(out);
    // The next hop's parent is this span: replace what the caller sent, keep everything else.
    req.headers = req.headers.filter(([k]) => !TRACE_HEADERS.has(k.toLowerCase()));
    for (const [k, v] of Object.entries(out)) if (typeof v === "string") req.headers.push([k, v]);
  }

  onComplete(ctx: RequestContext): void {
    const span = this.spans.get(ctx);
    const status = ctx.status ?? 0;
    span?.end({ status, error: ctx.error, upstream: ctx.upstream });
    this.accessLog.record({
      direction: ctx.direction,
      method: ctx.request.method,
      authority: ctx.request.authority,
      path: ctx.request.path,
      protocol: ctx.request.protocol === "http1" ? "http/1.1" : "h2",
      status,
      durationMs: ctx.durationMs ?? 0,
      bytesReceived: ctx.bytesReceived ?? 0,
      bytesSent: ctx.bytesSent ?? 0,
      upstream: ctx.upstream ?? "",
      service: ctx.service,
      traceId: span?.traceId || traceIdOf(bagOf(ctx.request.headers)),
      spanId: span?.spanId ?? "",
      requestId: ctx.requestId,
      peer: "",
    });
  }
}
