import test from "ava";
import { loadWeftProto } from "../../../proto/grpc";
import { appendLogRecord, decodePushLogsResponse, logBatch } from "./log-batch-codec";
import type { ShippedLine } from "./log-shipper";
import { Writer } from "./protobuf-writer";

/** A LogBatch as the shipper builds one: each line appended as it comes, then the drop count. */
function encodeLogBatch(lines: readonly ShippedLine[], droppedSinceLast: number): Buffer {
  const w = new Writer(64);
  for (const l of lines) appendLogRecord(w, l);
  return logBatch(w.buf.subarray(0, w.pos), droppedSinceLast);
}

const LINE: ShippedLine = {
  timeUnixNano: "1764438000123000000",
  service: "front",
  container: "front-1",
  instance: "front-1.abc",
  level: "warn",
  source: "access",
  message: `GET reviews:8080/é?q=${"x".repeat(300)} 404 3ms`,
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  attributes: { status: "404", path: "/é", empty: "" },
};

test("a hand-encoded batch is the LogBatch the control plane's sink decodes, field for field", (t) => {
  const push = loadWeftProto().weft.v1.LogSink.service.Push;
  const other: ShippedLine = {
    ...LINE,
    service: "frönt",
    message: "plain",
    timeUnixNano: "0",
    traceId: "",
    spanId: "",
    attributes: {},
  };
  const bytes = encodeLogBatch([LINE, other], 7);
  t.deepEqual(push.requestDeserialize(bytes), {
    records: [
      {
        time_unix_nano: LINE.timeUnixNano,
        service: "front",
        container: "front-1",
        instance: "front-1.abc",
        level: "warn",
        source: "access",
        message: LINE.message,
        trace_id: LINE.traceId,
        span_id: LINE.spanId,
        attributes: { status: "404", path: "/é", empty: "" },
      },
      {
        time_unix_nano: "0",
        service: "frönt",
        container: "front-1",
        instance: "front-1.abc",
        level: "warn",
        source: "access",
        message: "plain",
        trace_id: "",
        span_id: "",
        attributes: {},
      },
    ],
    dropped_since_last: "7",
  });
});

test("the sink's answer is read back, whatever fields it adds", (t) => {
  const push = loadWeftProto().weft.v1.LogSink.service.Push;
  t.deepEqual(decodePushLogsResponse(push.responseSerialize({ accepted: "500", dropped: "3" })), {
    accepted: 500,
    dropped: 3,
  });
  t.deepEqual(decodePushLogsResponse(Buffer.from([0x1a, 0x01, 0x41, 0x08, 0x05])), {
    accepted: 5,
    dropped: 0,
  });
  t.throws(() => decodePushLogsResponse(Buffer.from([0x08, 0x80])));
});

test("a full batch of long and non-ASCII lines decodes line for line", (t) => {
  const push = loadWeftProto().weft.v1.LogSink.service.Push;
  const lines: ShippedLine[] = [];
  for (let i = 0; i < 500; i++) {
    lines.push({
      ...LINE,
      timeUnixNano: String(1764438000123000000n + BigInt(i)),
      message: `${i % 3 === 0 ? "ñ" : "n"}${"m".repeat(i * 7)}`,
      attributes: { i: String(i), long: "v".repeat(i), [`k${"é".repeat(i % 5)}`]: "x" },
    });
  }
  const decoded = push.requestDeserialize(encodeLogBatch(lines, 0)) as {
    records: Array<{ time_unix_nano: string; message: string; attributes: Record<string, string> }>;
  };
  t.is(decoded.records.length, 500);
  t.deepEqual(
    decoded.records.map((r) => [r.time_unix_nano, r.message, r.attributes]),
    lines.map((l) => [l.timeUnixNano, l.message, l.attributes]),
  );
});

test("a line made now carries its time as milliseconds, sent as the same nanoseconds", (t) => {
  const push = loadWeftProto().weft.v1.LogSink.service.Push;
  const decoded = push.requestDeserialize(
    encodeLogBatch(
      [
        { ...LINE, timeUnixNano: "", timeMs: 1764438000123 },
        { ...LINE, timeUnixNano: "", timeMs: 1764438000123.25 },
        { ...LINE, timeUnixNano: "", timeMs: 0 },
      ],
      0,
    ),
  ) as { records: Array<{ time_unix_nano: string; attributes: Record<string, string> }> };
  t.deepEqual(
    decoded.records.map((r) => r.time_unix_nano),
    ["1764438000123000000", "1764438000123250000", "0"],
  );
  t.deepEqual(decoded.records[0]?.attributes, LINE.attributes);
});

test("times are exact across the whole uint64 range", (t) => {
  const push = loadWeftProto().weft.v1.LogSink.service.Push;
  const times = [
    "1",
    "999999999",
    "1000000000",
    "1764438000123456789",
    "9999999999999999999",
    "18446744073709551615",
  ];
  const decoded = push.requestDeserialize(
    encodeLogBatch(
      times.map((timeUnixNano) => ({ ...LINE, timeUnixNano })),
      0,
    ),
  ) as { records: Array<{ time_unix_nano: string }> };
  t.deepEqual(
    decoded.records.map((r) => r.time_unix_nano),
    times,
  );
});
