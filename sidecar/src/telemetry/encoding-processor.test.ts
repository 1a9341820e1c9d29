// The encoding span processor with a recording sink: batches by count and by time, sampled spans
// only, a bounded queue while a send hangs, and requests the control plane reads back whole.
import { context, SpanKind, TraceFlags, type Tracer, trace } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import test from "ava";
import { decodeTraceRequest } from "../../../control-plane/src/telemetry/otlp-protobuf";
import { type EncodedSpanSink, EncodingSpanProcessor } from "./encoding-processor";

class Sink implements EncodedSpanSink {
  requests: Array<{ body: Buffer; spans: number }> = [];
  closed = false;
  async shutdown(): Promise<void> {
    this.closed = true;
  }
  /** While set, sends wait for it. */
  gate: Promise<void> | undefined;
  async sendEncoded(body: Buffer, spans: number): Promise<void> {
    this.requests.push({ body, spans });
    await this.gate;
  }
  names(): string[] {
    return this.requests.flatMap((r) => decodeTraceRequest(r.body).spans.map((s) => s.name));
  }
}

function setup(o: { maxQueueSize?: number; maxBatchSpans?: number; delayMs?: number } = {}) {
  const sink = new Sink();
  const processor = new EncodingSpanProcessor(sink, {
    maxQueueSize: o.maxQueueSize ?? 100,
    maxBatchSpans: o.maxBatchSpans ?? 3,
    delayMs: o.delayMs ?? 60_000,
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "front" }),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer("weft-sidecar");
  return { sink, processor, tracer };
}

const span = (tracer: Tracer, name: string) => tracer.startSpan(name, { kind: SpanKind.CLIENT }).end();

test("a full batch leaves at once; the rest on flush; the control plane reads every span", async (t) => {
  const { sink, processor, tracer } = setup();
  for (const n of ["a", "b", "c", "d"]) span(tracer, n);
  t.is(sink.requests.length, 1);
  t.is(sink.requests[0]?.spans, 3);
  await processor.forceFlush();
  t.deepEqual(sink.names(), ["a", "b", "c", "d"]);
  const [first] = decodeTraceRequest(sink.requests[0]!.body).spans;
  t.is(first?.service, "front");
  t.is(first?.kind, SpanKind.CLIENT + 1); // OTLP numbers kinds from 1 (SPAN_KIND_INTERNAL)
});

test("a batch that does not fill leaves after the delay", async (t) => {
  const { sink, tracer } = setup({ delayMs: 20 });
  span(tracer, "lonely");
  t.is(sink.requests.length, 0);
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(sink.names(), ["lonely"]);
});

test("unsampled spans are not sent", async (t) => {
  const { sink, processor, tracer } = setup();
  const parent = {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: TraceFlags.NONE,
    isRemote: true,
  };
  tracer.startSpan("not sampled", {}, trace.setSpanContext(context.active(), parent)).end();
  span(tracer, "sampled");
  await processor.forceFlush();
  t.deepEqual(sink.names(), ["sampled"]);
});

test("while the sink hangs, spans beyond the queue are dropped and counted, never waited for", async (t) => {
  const { sink, processor, tracer } = setup({ maxQueueSize: 5, maxBatchSpans: 2 });
  let open: () => void = () => {};
  sink.gate = new Promise((r) => {
    open = r;
  });
  for (let i = 0; i < 9; i++) span(tracer, `s${i}`);
  // 2 + 2 in flight, 1 written: the queue (5) is full, the other 4 are dropped
  t.is(processor.dropped, 4);
  open();
  await processor.forceFlush();
  t.deepEqual(sink.names(), ["s0", "s1", "s2", "s3", "s4"]);
  sink.gate = undefined;
  span(tracer, "after");
  await processor.forceFlush();
  t.is(sink.names().at(-1), "after");
});

test("shutdown sends what is left, then closes the sink; later spans are ignored", async (t) => {
  const { sink, processor, tracer } = setup();
  span(tracer, "last");
  await processor.shutdown();
  t.deepEqual(sink.names(), ["last"]);
  t.true(sink.closed);
  span(tracer, "too late");
  t.deepEqual(sink.names(), ["last"]);
});
