import { context, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import test from "ava";
// The control plane's own decoder: what it reads back is what users see in traces.
import { decodeTraceRequest } from "../../../control-plane/src/telemetry/otlp-protobuf";
import { Writer } from "./protobuf-writer";
import { appendSpan, encodeTraceRequest, wrapSpans } from "./span-codec";

function spansOf(serviceName: string, make: (p: BasicTracerProvider) => void): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      "service.name": serviceName,
      "weft.workload": "w-1",
      "deploy.zone": "ü-1",
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  make(provider);
  return exporter.getFinishedSpans();
}

const PARENT = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: new TraceState("vendor=x,other=y"),
};

function sampleSpans(): ReadableSpan[] {
  const a = spansOf("front", (p) => {
    const tracer = p.getTracer("weft-sidecar");
    const parent = trace.setSpanContext(context.active(), PARENT);
    const s = tracer.startSpan(
      "GET /reviews",
      {
        kind: SpanKind.SERVER,
        attributes: {
          "http.request.method": "GET",
          "url.path": "/reviews/ñandú",
          "http.response.status_code": 503,
          "weft.retries": 2,
          ratio: 0.25,
          big: 2 ** 40,
          negative: -7,
          ok: false,
          list: ["a", "b"],
          nums: [1, 2.5],
          long: "x".repeat(300),
          // A string KeyValue fits one length byte up to 127: key + value + 6 (either side of it).
          edge121: "e".repeat(121 - "edge121".length),
          edge122: "e".repeat(122 - "edge122".length),
          "edge-é": "e".repeat(20),
        },
        links: [{ context: { ...PARENT, spanId: "1111111111111111" }, attributes: { why: "retry" } }],
      },
      parent,
    );
    s.addEvent("retry", { attempt: 1 });
    s.addEvent("plain");
    s.setStatus({ code: SpanStatusCode.ERROR, message: "upstream reset" });
    s.end();
    const child = tracer.startSpan(
      "GET /ratings",
      { kind: SpanKind.CLIENT },
      trace.setSpan(context.active(), s),
    );
    child.end();
    tracer.startSpan("root").end();
    p.getTracer("other-scope", "1.2.3").startSpan("in another scope").end();
  });
  const b = spansOf("back", (p) =>
    p.getTracer("weft-sidecar").startSpan("POST /x", { kind: SpanKind.INTERNAL }).end(),
  );
  return [a[0], b[0], ...a.slice(1)] as ReadableSpan[];
}

test("spans are encoded byte for byte as the OpenTelemetry SDK's OTLP serializer encodes them", (t) => {
  const spans = sampleSpans();
  const ours = encodeTraceRequest(spans);
  const sdk = ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array;
  t.deepEqual(ours, Buffer.from(sdk));
  // Twice: the second batch uses the resource and scope bytes kept from the first.
  t.deepEqual(encodeTraceRequest(spans), Buffer.from(sdk));
});

test("a batch of many spans (buffer growth, long lengths) still matches the SDK's bytes", (t) => {
  const spans = spansOf("front", (p) => {
    const tracer = p.getTracer("weft-sidecar");
    for (let i = 0; i < 600; i++) {
      tracer.startSpan(`GET /item/${i}`, { attributes: { n: i, body: "é".repeat(i % 90) } }).end();
    }
  });
  t.deepEqual(
    encodeTraceRequest(spans),
    Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array),
  );
});

test("the control plane reads every span back field for field", (t) => {
  const spans = sampleSpans();
  const decoded = decodeTraceRequest(encodeTraceRequest(spans));
  t.is(decoded.rejected, 0);
  t.deepEqual(
    decoded,
    decodeTraceRequest(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array)),
  );
  const server = decoded.spans.find((s) => s.name === "GET /reviews");
  t.truthy(server);
  t.like(server, {
    traceId: PARENT.traceId,
    parentSpanId: PARENT.spanId,
    service: "front",
    statusMessage: "upstream reset",
  });
  t.is(server?.attributes["url.path"], "/reviews/ñandú");
  t.is(server?.attributes["http.response.status_code"], 503);
  t.is(server?.events.length, 2);
  t.is(decoded.spans.find((s) => s.name === "POST /x")?.service, "back");
});

test("an empty batch is an empty request", (t) => {
  t.is(encodeTraceRequest([]).length, 0);
});

test("spans appended one by one and wrapped make the same request as encoding the batch", (t) => {
  const spans = spansOf("front", (p) => {
    const tracer = p.getTracer("weft-sidecar");
    for (const [i, kind] of [SpanKind.SERVER, SpanKind.CLIENT, SpanKind.CLIENT].entries()) {
      const s = tracer.startSpan(`GET /${i}`, { kind, attributes: { "http.request.method": "GET", n: i } });
      s.setStatus({
        code: i === 2 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET,
        message: i === 2 ? "boom" : undefined,
      });
      s.end();
    }
  });
  const w = new Writer(64);
  for (const s of spans) appendSpan(w, s);
  const first = spans[0]!;
  const wrapped = wrapSpans(first.resource, first.instrumentationScope, w.buf.subarray(0, w.pos));
  t.true(wrapped.equals(encodeTraceRequest(spans)));
});
