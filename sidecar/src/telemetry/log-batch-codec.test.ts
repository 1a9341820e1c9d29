import test from "ava";
import { loadWeftProto } from "../../../proto/index";
import { decodePushLogsResponse, encodeLogBatch } from "./log-batch-codec";
import type { ShippedLine } from "./log-shipper";

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
