// Spans for the requests a sidecar carries: a SERVER span for each inbound request and a CLIENT
// span for each outbound one, made with the OpenTelemetry SDK's tracer provider (no global provider,
// no auto-instrumentation). Sampling, the exporter endpoint and resource attributes come from the
// control plane's telemetry config and change live: configure() swaps the provider, and spans
// already started finish on the one that made them.
import { type Span, type SpanContext, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { type EncodedSpanSink, EncodingSpanProcessor } from "./encoding-processor";
import { PooledIdGenerator } from "./id-pool";
import {
  type B3Form,
  extractTraceContext,
  type HeaderBag,
  injectTraceContext,
  w3cTraceparent,
} from "./trace-context";
import { wallClockHrTime } from "./wall-clock";

export interface TracingSettings {
  enabled: boolean;
  /** 0..1 of new traces; a caller's sampling decision is kept (parent based). */
  samplingRatio: number;
  /** "" = the control plane; else http(s)://HOST:4318[/v1/traces] or grpc://HOST:4317. */
  otlpEndpoint: string;
  resourceAttributes: Record<string, string>;
}

export interface SpanStart {
  direction: "inbound" | "outbound";
  method: string;
  /** The request target; its query string is left out of the span. */
  path: string;
  authority: string;
  protocol: "http/1.1" | "h2" | "grpc";
  /** The service the request is for (outbound: the destination; inbound: this workload's). */
  service?: string;
  /** Who connected to the sidecar. */
  peerAddress?: string;
  /** Inbound over mutual TLS: the caller's SPIFFE identity, proven by its certificate. */
  peerIdentity?: string;
  route?: string;
}

export interface SpanEnd {
  /** HTTP status; 0 when no response came (connect failure, reset, timeout). */
  status: number;
  error?: string;
  /** The endpoint ADDRESS:PORT the request went to. */
  upstream?: string;
  retries?: number;
  grpcStatus?: number;
}

export interface RequestSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  /** Makes this span the parent on the next hop (writes traceparent and B3 if the request used it). */
  inject(headers: HeaderBag): void;
  /** When a traceparent is all the next hop needs (no tracestate, no B3), that header; else undefined
   * and inject() writes what is needed. Tracing off: undefined, and inject() writes nothing. */
  traceparent(): string | undefined;
  /** Idempotent. */
  end(e: SpanEnd): void;
}

export interface MeshTracerOptions {
  workload: string;
  /** The workload's own service ("" when it has none: spans then carry the workload's name). */
  service: string;
  nodeId: string;
  /**
   * Makes the exporter for an endpoint ("" = the control plane). One that also takes encoded
   * requests (EncodedSpanSink) gets spans written as they end instead of batched as objects.
   */
  exporterFor(endpoint: string): SpanExporter | (SpanExporter & EncodedSpanSink);
  /** Bounded: spans beyond it are dropped, never waited for. Default 2048. */
  maxQueueSize?: number;
}

/** When tracing is off, requests pass with the caller's headers as they are. */
const NOT_TRACED: RequestSpan = {
  traceId: "",
  spanId: "",
  sampled: false,
  inject: () => undefined,
  traceparent: () => undefined,
  end: () => undefined,
};

/**
 * `server.address` and `server.port` from a Host or :authority, as the semantic conventions split
 * them: "reviews:8080" is reviews and 8080, "[::1]:80" is ::1 and 80, a bare IPv6 address or a name
 * without a port is all address. A port that is not 1-65535 stays part of the address.
 */
export function setServer(
  span: { setAttribute(key: string, value: string | number): unknown },
  authority: string,
): void {
  const colon = authority.lastIndexOf(":");
  const bracket = authority.charCodeAt(0) === 91; // "["
  // A second colon before the last one is an unbracketed IPv6 address: no port in it.
  if (colon > 0 && (bracket ? authority.charCodeAt(colon - 1) === 93 : authority.indexOf(":") === colon)) {
    const port = portNumber(authority, colon + 1);
    if (port > 0) {
      span.setAttribute("server.address", authority.slice(bracket ? 1 : 0, bracket ? colon - 1 : colon));
      span.setAttribute("server.port", port);
      return;
    }
  }
  span.setAttribute("server.address", authority);
}

/** The decimal port from `at` to the end, 0 when it is not one (empty, not digits, above 65535). */
function portNumber(s: string, at: number): number {
  const n = s.length - at;
  if (n < 1 || n > 5) return 0;
  let port = 0;
  for (let i = at; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return 0;
    port = port * 10 + d;
  }
  return port <= 65535 ? port : 0;
}

/** The request's attributes, set one by one (no object to build and walk). */
function setStartAttributes(span: Span, s: SpanStart, path: string): void {
  span.setAttribute("http.request.method", s.method);
  span.setAttribute("url.path", path);
  setServer(span, s.authority);
  span.setAttribute("network.protocol.name", s.protocol === "http/1.1" ? "http" : s.protocol);
  span.setAttribute("weft.direction", s.direction);
  if (s.service) span.setAttribute(s.direction === "outbound" ? "peer.service" : "weft.service", s.service);
  if (s.peerAddress) span.setAttribute("network.peer.address", s.peerAddress);
  if (s.peerIdentity) span.setAttribute("weft.peer.identity", s.peerIdentity);
  if (s.route) span.setAttribute("weft.route", s.route);
}

/** One request's span: a class rather than closures, so a request costs one small object. */
class MeshSpan implements RequestSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  private ended = false;

  constructor(
    private readonly span: Span,
    private readonly ctx: SpanContext,
    private readonly b3: B3Form,
  ) {
    this.traceId = ctx.traceId;
    this.spanId = ctx.spanId;
    this.sampled = span.isRecording();
  }

  inject(out: HeaderBag): void {
    injectTraceContext(out, this.ctx, this.b3);
  }

  traceparent(): string | undefined {
    return this.b3 === "none" ? w3cTraceparent(this.ctx) : undefined;
  }

  end(e: SpanEnd): void {
    if (this.ended) return;
    this.ended = true;
    const span = this.span;
    if (!this.sampled) {
      span.end();
      return;
    }
    const endTime = wallClockHrTime();
    if (e.status > 0) span.setAttribute("http.response.status_code", e.status);
    if (e.upstream) span.setAttribute("weft.upstream", e.upstream);
    if (e.retries) span.setAttribute("weft.retries", e.retries);
    if (e.grpcStatus !== undefined) span.setAttribute("rpc.grpc.status_code", e.grpcStatus);
    if (e.status === 0 || e.status >= 500 || (e.grpcStatus !== undefined && e.grpcStatus !== 0)) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.error ?? `status ${e.status}` });
    } else if (e.error) {
      // A 4xx the sidecar gave itself (RBAC, a rate limit): not an error of the server, but the reason.
      span.setAttribute("weft.reason", e.error);
    }
    // Both ends given: a span given its start time takes Date.now() for an end left out.
    span.end(endTime);
  }
}

export class MeshTracer {
  private provider?: BasicTracerProvider;
  /** The provider's tracer, looked up once per provider rather than once per request. */
  private tracer?: Tracer;
  private settingsKey = "";

  constructor(private readonly o: MeshTracerOptions) {}

  /** Applies new settings; undefined or enabled=false turns tracing off. Never throws. */
  configure(settings: TracingSettings | undefined): void {
    const key = JSON.stringify(settings?.enabled ? settings : null);
    if (key === this.settingsKey) return;
    this.settingsKey = key;
    const old = this.provider;
    this.provider = settings?.enabled ? this.makeProvider(settings) : undefined;
    this.tracer = this.provider?.getTracer("weft-sidecar");
    // Spans already queued on the old provider are still exported.
    void old?.shutdown().catch(() => undefined);
  }

  get enabled(): boolean {
    return this.provider !== undefined;
  }

  start(headers: HeaderBag, s: SpanStart): RequestSpan {
    const tracer = this.tracer;
    if (!tracer) return NOT_TRACED;
    const { context, b3 } = extractTraceContext(headers);
    const q = s.path.indexOf("?");
    const path = q < 0 ? s.path : s.path.slice(0, q);
    const kind = s.direction === "inbound" ? SpanKind.SERVER : SpanKind.CLIENT;
    const span: Span = tracer.startSpan(
      `${s.method} ${path}`,
      { kind, startTime: wallClockHrTime() },
      context,
    );
    // Set on the span once it is known to record, rather than passed to startSpan, which checks
    // them three times over (twice copying); the samplers here never look at attributes.
    if (span.isRecording()) setStartAttributes(span, s, path);
    return new MeshSpan(span, span.spanContext(), b3);
  }

  /** Exports what is queued and stops. */
  async shutdown(): Promise<void> {
    const p = this.provider;
    this.provider = undefined;
    this.tracer = undefined;
    this.settingsKey = "";
    await p?.shutdown().catch(() => undefined);
  }

  private makeProvider(settings: TracingSettings): BasicTracerProvider {
    const ratio = Math.min(1, Math.max(0, settings.samplingRatio));
    const exporter = this.o.exporterFor(settings.otlpEndpoint);
    const queue = { maxQueueSize: this.o.maxQueueSize ?? 2048, batch: 512, delayMs: 1000 };
    const processor =
      "sendEncoded" in exporter
        ? new EncodingSpanProcessor(exporter, {
            maxQueueSize: queue.maxQueueSize,
            maxBatchSpans: queue.batch,
            delayMs: queue.delayMs,
          })
        : new BatchSpanProcessor(exporter, {
            maxQueueSize: queue.maxQueueSize,
            maxExportBatchSize: queue.batch,
            scheduledDelayMillis: queue.delayMs,
          });
    return new BasicTracerProvider({
      resource: resourceFromAttributes({
        ...settings.resourceAttributes,
        "service.name": this.o.service || this.o.workload,
        "service.instance.id": this.o.nodeId,
        "weft.workload": this.o.workload,
      }),
      sampler: new ParentBasedSampler({ root: rootSampler(ratio) }),
      idGenerator: new PooledIdGenerator(),
      spanProcessors: [processor],
    });
  }
}

/** For a new trace: 1 and 0 need no look at the trace id (the ratio sampler reads all 32 digits). */
function rootSampler(ratio: number): Sampler {
  if (ratio >= 1) return new AlwaysOnSampler();
  if (ratio <= 0) return new AlwaysOffSampler();
  return new TraceIdRatioBasedSampler(ratio);
}

/** The trace id of a request as the app sees it (for access logs when tracing is off). */
export function traceIdOf(headers: HeaderBag): string {
  return extractTraceContext(headers).parent?.traceId ?? "";
}
