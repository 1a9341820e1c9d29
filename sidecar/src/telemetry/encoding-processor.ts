// A span processor for the sidecar's default path (OTLP to the control plane): each sampled span is
// written as protobuf the moment it ends, and batches leave as bytes. The SDK's BatchSpanProcessor
// keeps every span object until its batch is exported (up to 512 at 1000 req/s, half a second):
// they outlive the young generation, are promoted and collected by full GCs, and the whole batch
// is then serialised in one go on the event loop. Written at its end, a span dies young, its
// bytes (about 330) are all that waits, and the work is spread over the requests.
import type { Context } from "@opentelemetry/api";
import { TraceFlags } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Writer } from "./protobuf-writer";
import { appendSpan, wrapSpans } from "./span-codec";

/** Where encoded ExportTraceServiceRequests go (span-exporters.ts ControlPlaneSpanExporter). */
export interface EncodedSpanSink {
  /** `spans`: how many the request holds (the sink counts them as dropped when the send fails). */
  sendEncoded(request: Buffer, spans: number): Promise<void>;
  /** Closes the sink's connection; called once the processor has sent everything. */
  shutdown?(): Promise<void>;
}

export interface EncodingProcessorOptions {
  /** Spans held at most (written, not yet sent); beyond it spans are dropped, never waited for. */
  maxQueueSize: number;
  /** A batch leaves when it holds this many spans... */
  maxBatchSpans: number;
  /** ...or this long after its first span. */
  delayMs: number;
}

type Resource = ReadableSpan["resource"];
type Scope = ReadableSpan["instrumentationScope"];

interface Batch {
  resource: Resource;
  scope: Scope;
  spans: number;
}

/** The writer is kept from batch to batch at the size batches need, unless one span made it huge. */
const WRITER_BYTES = 16 * 1024;
const WRITER_KEPT_MAX_BYTES = 1024 * 1024;

export class EncodingSpanProcessor implements SpanProcessor {
  private batch: Batch | undefined;
  /** Where the open batch's spans are written; reused once a batch is sent (wrapSpans copies). */
  private writer = new Writer(WRITER_BYTES);
  /** Spans in batches being sent. */
  private inFlight = 0;
  private sending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Spans dropped because the queue was full (the sink counts failed sends). */
  dropped = 0;

  constructor(
    private readonly sink: EncodedSpanSink,
    private readonly o: EncodingProcessorOptions,
  ) {}

  onStart(_span: Span, _parent: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    let batch = this.batch;
    // One provider has one resource and one scope; another pair starts a batch of its own.
    if (batch && (batch.resource !== span.resource || batch.scope !== span.instrumentationScope)) {
      this.send();
      batch = undefined;
    }
    if ((batch?.spans ?? 0) + this.inFlight >= this.o.maxQueueSize) {
      this.dropped++;
      return;
    }
    if (!batch) {
      batch = { resource: span.resource, scope: span.instrumentationScope, spans: 0 };
      this.batch = batch;
      this.timer = setTimeout(() => this.send(), this.o.delayMs);
      this.timer.unref();
    }
    appendSpan(this.writer, span);
    batch.spans++;
    if (batch.spans >= this.o.maxBatchSpans) this.send();
  }

  /** Sends what is written now and waits for every send so far. */
  async forceFlush(): Promise<void> {
    this.send();
    await this.sending;
  }

  /** Sends what is left, then closes the sink (a provider swapped by new settings leaves no connection behind). */
  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.stopped = true;
    await this.sink.shutdown?.();
  }

  private send(): void {
    clearTimeout(this.timer);
    const batch = this.batch;
    this.batch = undefined;
    if (!batch || batch.spans === 0) return;
    const body = wrapSpans(batch.resource, batch.scope, this.writer.buf.subarray(0, this.writer.pos));
    this.writer.pos = 0;
    if (this.writer.buf.length > WRITER_KEPT_MAX_BYTES) this.writer = new Writer(WRITER_BYTES);
    this.inFlight += batch.spans;
    const done = () => {
      this.inFlight -= batch.spans;
    };
    const sent = this.sink.sendEncoded(body, batch.spans).then(done, done);
    this.sending = Promise.all([this.sending, sent]).then(() => undefined);
  }
}
