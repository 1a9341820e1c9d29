// Malformed OTLP gets a 4xx with the reason; nothing already stored is lost.
import { gzipSync } from "node:zlib";
import * as grpc from "@grpc/grpc-js";
import { SpanKind } from "@opentelemetry/api";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import test from "ava";
import type { TraceSummary } from "../control-plane/src/telemetry/index";
import { getJson, startTelemetryPlane } from "./telemetry-support";

/** A real OTLP/protobuf ExportTraceServiceRequest with `n` spans, made by the SDK's serializer
 * (starting and ending at `at`, [seconds, ns] since 1970, when given). */
function otlpRequest(n: number, service = "shop", at?: [number, number]): Buffer {
  const memory = new InMemorySpanExporter();
  const p = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": service }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  for (let i = 0; i < n; i++)
    p.getTracer("t")
      .startSpan(`op-${i}`, { kind: SpanKind.SERVER, ...(at ? { startTime: at } : {}) })
      .end(at);
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!);
}

async function post(url: string, body: Buffer | string, headers: Record<string, string>) {
  const res = await fetch(url, { method: "POST", body, headers, signal: AbortSignal.timeout(30_000) });
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    body: Buffer.from(await res.arrayBuffer()),
  };
}

test("OTLP/HTTP refuses bad bodies with a reason and keeps what it stored", async (t) => {
  const cp = await startTelemetryPlane(t);
  const url = `http://${cp.otlpHttp}/v1/traces`;
  const proto = { "Content-Type": "application/x-protobuf" };
  const json = { "Content-Type": "application/json" };

  const good = await post(url, otlpRequest(3), proto);
  t.is(good.status, 200);
  t.is(good.body.length, 0, "full success is an empty ExportTraceServiceResponse");
  const gz = await post(url, gzipSync(otlpRequest(2)), { ...proto, "Content-Encoding": "gzip" });
  t.is(gz.status, 200);
  t.is(cp.telemetry.store.spans.count(), 5);

  const wrongType = await post(url, "hello", { "Content-Type": "text/plain" });
  t.is(wrongType.status, 415);
  t.regex(wrongType.body.toString(), /text\/plain.*application\/x-protobuf or application\/json/);

  const full = otlpRequest(2);
  const truncated = await post(url, full.subarray(0, full.length - 7), proto);
  t.is(truncated.status, 400);
  t.regex(truncated.body.toString(), /malformed protobuf at byte \d+: .*(truncated|past the end)/);

  const notGzip = await post(url, otlpRequest(1), { ...proto, "Content-Encoding": "gzip" });
  t.is(notGzip.status, 400);
  t.regex(notGzip.body.toString(), /cannot be decompressed/);

  const tooBig = await post(url, Buffer.alloc(5 * 1024 * 1024, 1), proto);
  t.is(tooBig.status, 413);
  const bomb = await post(url, gzipSync(Buffer.alloc(20 * 1024 * 1024)), {
    ...proto,
    "Content-Encoding": "gzip",
  });
  t.is(bomb.status, 413);
  t.regex(bomb.body.toString(), /inflates to over/);

  const notJson = await post(url, "{nope", json);
  t.is(notJson.status, 400);
  t.regex(JSON.parse(notJson.body.toString()).message, /not valid JSON/);
  const wrongShape = await post(url, JSON.stringify({ resourceSpans: "x" }), json);
  t.is(wrongShape.status, 400);
  t.is(JSON.parse(wrongShape.body.toString()).message, "resourceSpans must be an array");

  const zeroIds = await post(
    url,
    JSON.stringify({
      resourceSpans: [
        { scopeSpans: [{ spans: [{ traceId: "0".repeat(32), spanId: "1".repeat(16), name: "x" }] }] },
      ],
    }),
    json,
  );
  t.is(zeroIds.status, 200);
  t.deepEqual(JSON.parse(zeroIds.body.toString()).partialSuccess.rejectedSpans, "1");

  // A time after 2262: a uint64 on the wire, past SQLite's signed 64 bits. It was a 503 "cannot
  // store", which an SDK retries, with every other span of the request, until it gives up.
  const late = "18446744073709551615";
  const lateJson = await post(
    url,
    JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: "a".repeat(32),
                  spanId: "b".repeat(16),
                  name: "x",
                  startTimeUnixNano: late,
                  endTimeUnixNano: late,
                },
              ],
            },
          ],
        },
      ],
    }),
    json,
  );
  t.is(lateJson.status, 400);
  t.regex(JSON.parse(lateJson.body.toString()).message, /startTimeUnixNano is after 2262-04-11/);
  const lateProto = await post(url, otlpRequest(2, "shop", [2 ** 34, 0]), proto);
  t.is(lateProto.status, 400);
  t.regex(lateProto.body.toString(), /a time of \d+ ns, is after 2262-04-11/);
  const lateLog = await post(
    `http://${cp.otlpHttp}/v1/logs`,
    JSON.stringify({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: late, body: { stringValue: "x" } }] }] }],
    }),
    json,
  );
  t.is(lateLog.status, 400);
  t.regex(JSON.parse(lateLog.body.toString()).message, /timeUnixNano is after 2262-04-11/);

  // A sender whose clock is years ahead: its spans and log lines would head every newest-first list
  // and outlive retention. Refused as a partial success naming the clock; the rest is stored.
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const year2100 = "4102444800000000000";
  const span = (id: string, at: string) => ({
    traceId: id.repeat(32),
    spanId: id.repeat(16),
    name: "x",
    startTimeUnixNano: at,
    endTimeUnixNano: at,
  });
  const ahead = await post(
    url,
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "clocks" } }] },
          scopeSpans: [{ spans: [span("c", year2100), span("d", String(nowNs))] }],
        },
      ],
    }),
    json,
  );
  t.is(ahead.status, 200);
  const partial = JSON.parse(ahead.body.toString()).partialSuccess;
  t.is(partial.rejectedSpans, "1");
  t.regex(
    partial.errorMessage,
    /^1 spans were timed more than 1h after this control plane's clock \(.*\); check the sending host's clock$/,
  );
  const clocks = await getJson<{ traces: TraceSummary[] }>(`${cp.http}/api/v1/traces?service=clocks`);
  t.deepEqual(
    clocks.body.traces.map((tr) => tr.traceId),
    ["d".repeat(32)],
  );
  const aheadLog = await post(
    `http://${cp.otlpHttp}/v1/logs`,
    JSON.stringify({
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                { timeUnixNano: year2100, body: { stringValue: "from the future" } },
                { timeUnixNano: String(nowNs), body: { stringValue: "from now" } },
              ],
            },
          ],
        },
      ],
    }),
    json,
  );
  t.is(aheadLog.status, 200);
  t.is(JSON.parse(aheadLog.body.toString()).partialSuccess.rejectedLogRecords, "1");
  t.is(cp.telemetry.store.spans.count(), 6, "the good span of that request");

  t.is((await fetch(url)).status, 405);
  t.is((await post(`http://${cp.otlpHttp}/v1/metrics`, "", proto)).status, 404);

  // Everything stored before the bad requests is still there and still served.
  t.is(cp.telemetry.store.spans.count(), 6);
  const listed = await getJson<{ traces: TraceSummary[] }>(`${cp.http}/api/v1/traces?service=shop&limit=100`);
  t.is(listed.body.traces.length, 5);
  t.true(cp.telemetry.counters.badRequests >= 10);
});

test("OTLP/gRPC answers INVALID_ARGUMENT for a truncated request and stores a good one", async (t) => {
  const cp = await startTelemetryPlane(t);
  const client = new grpc.Client(cp.otlpGrpc, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const call = (body: Buffer) =>
    new Promise<{ err: grpc.ServiceError | null }>((resolve) => {
      client.makeUnaryRequest(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        { deadline: Date.now() + 10_000 },
        (err) => resolve({ err }),
      );
    });
  const full = otlpRequest(4, "grpc-app");
  const bad = await call(full.subarray(0, full.length - 3));
  t.is(bad.err?.code, grpc.status.INVALID_ARGUMENT);
  t.regex(bad.err?.details ?? "", /malformed protobuf/);
  t.is((await call(full)).err, null);
  t.is(cp.telemetry.store.spans.count(), 4);
});
