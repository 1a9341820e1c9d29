import { SeverityNumber } from "@opentelemetry/api-logs";
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import test from "ava";
import { TelemetryError } from "./errors";
import { ingestSpans, newCounters } from "./ingest";
import { decodeLogsJson, decodeTraceJson } from "./otlp-json";
import { type DecodedSpans, decodeLogsRequest, decodeTraceRequest } from "./otlp-protobuf";
import type { TelemetryStore } from "./telemetry-store";

const NOW = BigInt(Date.now()) * 1_000_000n;

/** The level stored for one OTLP/JSON log record with these severity fields. */
function jsonLevel(severity: Record<string, unknown>): string {
  const body = {
    resourceLogs: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "pay" } }] },
        scopeLogs: [{ logRecords: [{ ...severity, body: { stringValue: "x" } }] }],
      },
    ],
  };
  return decodeLogsJson(JSON.stringify(body), NOW).logs[0]!.level;
}

test("OTLP severityNumber wins over severityText; the text counts only without a number", (t) => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ severityNumber: 17, severityText: "SEVERE" }, "error"],
    [{ severityNumber: 17, severityText: "E" }, "error"],
    [{ severityNumber: 9, severityText: "ERROR" }, "info"], // the number is the normalized value
    [{ severityNumber: 1 }, "debug"], // trace is stored as debug, the lowest level kept
    [{ severityNumber: 4 }, "debug"],
    [{ severityNumber: 5 }, "debug"],
    [{ severityNumber: 8 }, "debug"],
    [{ severityNumber: 9 }, "info"],
    [{ severityNumber: 12 }, "info"],
    [{ severityNumber: 13, severityText: "notice" }, "warn"],
    [{ severityNumber: 16 }, "warn"],
    [{ severityNumber: 20 }, "error"],
    [{ severityNumber: 21, severityText: "FATAL" }, "error"], // fatal is stored as error
    [{ severityNumber: 24 }, "error"],
    [{ severityNumber: 0, severityText: "WARNING" }, "warn"],
    [{ severityText: "SEVERE" }, "error"],
    [{ severityText: "E" }, "error"],
    [{ severityText: "FINE" }, "debug"],
    [{}, "info"],
    // proto3's JSON mapping allows enum names
    [{ severityNumber: "SEVERITY_NUMBER_ERROR", severityText: "SEVERE" }, "error"],
    [{ severityNumber: "SEVERITY_NUMBER_WARN3" }, "warn"],
    [{ severityNumber: "SEVERITY_NUMBER_TRACE" }, "debug"],
    [{ severityNumber: "SEVERITY_NUMBER_FATAL4" }, "error"],
    [{ severity_number: "SEVERITY_NUMBER_INFO2", severity_text: "ERROR" }, "info"],
    [{ severityNumber: "SEVERITY_NUMBER_UNSPECIFIED", severityText: "error" }, "error"],
  ];
  for (const [severity, level] of cases) t.is(jsonLevel(severity), level, JSON.stringify(severity));
  t.throws(() => jsonLevel({ severityNumber: "SEVERITY_NUMBER_LOUD" }), {
    instanceOf: TelemetryError,
    message: /severityNumber must be an integer or an enum name \(SEVERITY_NUMBER_TRACE, ...\)$/,
  });
});

test("over OTLP/protobuf too, severityNumber 17 with text SEVERE is an error", async (t) => {
  const memory = new InMemoryLogRecordExporter();
  const p = new LoggerProvider({
    resource: resourceFromAttributes({ "service.name": "pay" }),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = p.getLogger("t");
  logger.emit({ severityNumber: SeverityNumber.ERROR, severityText: "SEVERE", body: "card declined" });
  logger.emit({ severityNumber: SeverityNumber.WARN, severityText: "E", body: "slow" });
  await p.forceFlush();
  const body = Buffer.from(ProtobufLogsSerializer.serializeRequest(memory.getFinishedLogRecords())!);
  t.deepEqual(
    decodeLogsRequest(body, NOW).logs.map((l) => l.level),
    ["error", "warn"],
  );
});

/** An OTLP/JSON trace request with these spans (fields as given, ids and times filled in). */
function traceJson(...spans: Array<Record<string, unknown>>): string {
  const now = String(NOW);
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "pay" } }] },
        scopeSpans: [
          {
            spans: spans.map((s) => ({
              traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
              spanId: "00f067aa0ba902b7",
              name: "GET /pay",
              startTimeUnixNano: now,
              endTimeUnixNano: now,
              ...s,
            })),
          },
        ],
      },
    ],
  });
}

/** What the sender is told (OTLP partial_success) and what is stored. */
function ingested(d: DecodedSpans): { rejected: number; message: string; stored: number } {
  const stored: unknown[] = [];
  const store = { addSpans: (s: unknown[]) => stored.push(...s) } as unknown as TelemetryStore;
  const r = ingestSpans(store, newCounters(), d, NOW);
  return { ...r, stored: stored.length };
}

test("a span without a start or end time is refused as a partial success that says so", (t) => {
  t.deepEqual(
    ingested(
      decodeTraceJson(
        traceJson({ startTimeUnixNano: undefined }, { endTimeUnixNano: "0" }, { spanId: "00f067aa0ba902b8" }),
      ),
    ),
    {
      rejected: 2,
      message: "2 spans had no start or end time (startTimeUnixNano, endTimeUnixNano)",
      stored: 1,
    },
  );
});

test("a refused span's id problem is named: length, not hex, missing, all zeros", (t) => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [
      { traceId: "4bf92f3577b34da6a3ce929d0e0e47" },
      "1 span had a trace id of 30 hex digits, not 32 (16 bytes)",
    ],
    [
      { traceId: "4bf92f3577b34da6a3ce929d0e0e473z" },
      "1 span had a trace id that is neither 32 hex digits nor base64 of 16 bytes",
    ],
    [{ traceId: "" }, "1 span had no trace id"],
    [{ traceId: "0".repeat(32) }, "1 span had an all-zero trace id"],
    [{ spanId: "00f067aa0ba902" }, "1 span had a span id of 14 hex digits, not 16 (8 bytes)"],
    [{ spanId: "not-an-id!" }, "1 span had a span id that is neither 16 hex digits nor base64 of 8 bytes"],
  ];
  for (const [fields, message] of cases) {
    t.like(
      ingested(decodeTraceJson(traceJson(fields))),
      { rejected: 1, message, stored: 0 },
      JSON.stringify(fields),
    );
  }
  // base64 ids (the plain protobuf JSON mapping) are still taken
  t.like(
    ingested(decodeTraceJson(traceJson({ traceId: "S/kvNXezTaajzpKdDg5HNg==", spanId: "APBnqguaArc=" }))),
    {
      rejected: 0,
      stored: 1,
    },
  );
});

test("over OTLP/protobuf, a 15-byte trace id is named as such", (t) => {
  const memory = new InMemorySpanExporter();
  const p = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "pay" }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  p.getTracer("t").startSpan("GET /pay").end();
  const [span] = memory.getFinishedSpans();
  const context = { ...span!.spanContext(), traceId: "4bf92f3577b34da6a3ce929d0e0e47" };
  const short = Object.assign(Object.create(span!), { spanContext: () => context });
  const body = Buffer.from(ProtobufTraceSerializer.serializeRequest([short])!);
  t.like(ingested(decodeTraceRequest(body)), {
    rejected: 1,
    message: "1 span had a trace id of 30 hex digits, not 32 (16 bytes)",
  });
});
