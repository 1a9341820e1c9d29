// Where a sidecar's spans go. By default the control plane, over the gRPC target the sidecar already
// uses (its unix socket: a workload's netns cannot reach the host's 127.0.0.1), as a standard OTLP
// TraceService/Export call; or any OTLP endpoint the telemetry config names, with the OpenTelemetry
// exporters, loaded only when such an endpoint is configured.
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { grpcTarget } from "../../../proto/index";
import { GrpcChannel } from "../grpc/index";
import type { EncodedSpanSink } from "./encoding-processor";
import { encodeTraceRequest } from "./span-codec";

const EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/**
 * OTLP/gRPC to the control plane on the sidecar's own channel target, encoded by span-codec: as a
 * SpanExporter, or taking requests already encoded (encoding-processor.ts, what the tracer uses).
 */
export class ControlPlaneSpanExporter implements SpanExporter, EncodedSpanSink {
  private readonly channel: GrpcChannel;
  /** Spans dropped because an export failed (the batch processor does not retry). */
  dropped = 0;

  constructor(
    target: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.channel = new GrpcChannel(grpcTarget(target));
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    let body: Buffer;
    try {
      body = encodeTraceRequest(spans);
    } catch (error) {
      this.dropped += spans.length;
      done({ code: ExportResultCode.FAILED, error: error as Error });
      return;
    }
    this.channel.unary(EXPORT_PATH, body, { timeoutMs: this.timeoutMs }).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (error: Error) => {
        this.dropped += spans.length;
        done({ code: ExportResultCode.FAILED, error });
      },
    );
  }

  async sendEncoded(request: Buffer, spans: number): Promise<void> {
    try {
      await this.channel.unary(EXPORT_PATH, request, { timeoutMs: this.timeoutMs });
    } catch (error) {
      this.dropped += spans;
      throw error;
    }
  }

  async shutdown(): Promise<void> {
    this.channel.close();
  }

  async forceFlush(): Promise<void> {}
}

/** Loads an OpenTelemetry exporter package on first use (esbuild still bundles it: the sidecar's
 * bundle must stay self-contained), so a sidecar that never exports elsewhere never parses it. */
class LazySpanExporter implements SpanExporter {
  private readonly inner: Promise<SpanExporter>;

  constructor(load: () => Promise<SpanExporter>) {
    this.inner = load();
    this.inner.catch(() => undefined);
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.then(
      (e) => e.export(spans, done),
      (error: Error) => done({ code: ExportResultCode.FAILED, error }),
    );
  }

  async shutdown(): Promise<void> {
    await (await this.inner.catch(() => undefined))?.shutdown();
  }

  async forceFlush(): Promise<void> {
    await (await this.inner.catch(() => undefined))?.forceFlush?.();
  }
}

/**
 * The exporter for a configured endpoint: "" → the control plane; http(s)://… → OTLP/HTTP protobuf
 * (a bare host:port gets /v1/traces); grpc://HOST:PORT → OTLP/gRPC. Throws for anything else, so
 * the config validation can name the field.
 */
export function spanExporterFor(endpoint: string, controlPlaneTarget: string): SpanExporter {
  if (endpoint === "") return new ControlPlaneSpanExporter(controlPlaneTarget);
  const url = new URL(endpoint);
  if (url.protocol === "http:" || url.protocol === "https:") {
    const path = url.pathname === "/" ? "/v1/traces" : url.pathname;
    return new LazySpanExporter(async () => {
      const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
      return new OTLPTraceExporter({ url: `${url.origin}${path}` });
    });
  }
  if (url.protocol === "grpc:") {
    return new LazySpanExporter(async () => {
      const [{ OTLPTraceExporter }, grpc] = await Promise.all([
        import("@opentelemetry/exporter-trace-otlp-grpc"),
        import("@grpc/grpc-js"),
      ]);
      return new OTLPTraceExporter({
        url: `http://${url.host}`,
        credentials: grpc.credentials.createInsecure(),
      });
    });
  }
  throw new Error(
    `otlpEndpoint "${endpoint}" is not supported: use http(s)://HOST:4318 (OTLP/HTTP) or grpc://HOST:4317 (OTLP/gRPC), or leave it empty for the control plane`,
  );
}
