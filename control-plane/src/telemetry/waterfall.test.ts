import test from "ava";
import type { SpanView } from "./query-types";
import { orderSpans, renderWaterfall } from "./waterfall";

function span(spanId: string, parentSpanId: string, startMs: number, durationMs: number): SpanView {
  return {
    spanId,
    parentSpanId,
    name: `op-${spanId}`,
    kind: "internal",
    service: "svc",
    startTime: new Date(startMs).toISOString(),
    startTimeUnixNano: String(BigInt(startMs) * 1_000_000n),
    durationMs,
    status: { code: "unset", message: "" },
    attributes: {},
    resource: {},
    events: [],
  };
}

test("spans are ordered as a tree, children by start time, orphans as roots", (t) => {
  const spans = [
    span("c", "a", 1030, 5),
    span("b", "a", 1010, 10),
    span("a", "", 1000, 50),
    span("x", "missing", 1020, 1),
  ];
  t.deepEqual(
    orderSpans(spans).map((s) => `${s.depth}${s.span.spanId}`),
    ["0a", "1b", "1c", "0x"],
  );
});

test("the waterfall places each bar at its offset, scaled to the whole trace", (t) => {
  const out = renderWaterfall(
    { traceId: "t", spans: [span("a", "", 0, 100), span("b", "a", 50, 50)] },
    { barWidth: 10 },
  );
  t.regex(out, /\+0\.00ms\s+100\.0ms\s+\|#{10}\|/);
  t.regex(out, /\+50\.0ms\s+50\.0ms\s+\| {5}#{5}\|/);
});

test("a span the mesh retried says how often", (t) => {
  const call = { ...span("a", "", 0, 20), kind: "client" as const, attributes: { "weft.retries": 2 } };
  const out = renderWaterfall({ traceId: "t", spans: [call, span("b", "a", 1, 2)] });
  t.regex(out, /svc: op-a \(client\) retried 2x\n/);
  t.regex(out, /svc: op-b\n/);
});

test("a request the sidecar answered itself shows its status and why", (t) => {
  const denied = {
    ...span("a", "", 0, 1),
    kind: "server" as const,
    attributes: {
      "http.response.status_code": 403,
      "weft.reason": 'RBAC: access denied: service "front" may not GET / on "back"',
    },
  };
  const out = renderWaterfall({ traceId: "t", spans: [denied] });
  t.regex(out, /svc: op-a \(server\) 403: RBAC: access denied: service "front" may not GET \/ on "back"\n/);
});
