import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { openTelemetryDatabase } from "./database";
import { SpanStore } from "./span-store";
import { createTraceQueries } from "./trace-queries";
import type { SpanRecord } from "./types";

const NOW_NS = BigInt(Date.now()) * 1_000_000n;

function span(traceId: string, spanId: string, parent: string, service: string, failed: boolean): SpanRecord {
  return {
    traceId: traceId.repeat(32),
    spanId: spanId.repeat(16),
    parentSpanId: parent === "" ? "" : parent.repeat(16),
    name: `GET /${service}`,
    kind: parent === "" ? 2 : 3,
    service,
    startNs: NOW_NS - 1_000_000_000n + BigInt(spanId.charCodeAt(0)),
    durationNs: 5_000_000,
    statusCode: failed ? 2 : 0,
    statusMessage: "",
    attributes: {},
    resource: {},
    events: [],
    peerService: "",
  };
}

test("--service S --status error|ok judge S's spans (as Jaeger), without a service the whole trace", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-traceq-"));
  const db = openTelemetryDatabase(join(dir, "t.db"));
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  new SpanStore(db).insert([
    // a: ratings failed (frontend's own span is fine: the mesh retried).
    span("a", "1", "", "frontend", false),
    span("a", "2", "1", "ratings", true),
    // b: ratings answered, frontend failed.
    span("b", "3", "", "frontend", true),
    span("b", "4", "3", "ratings", false),
    // c: nothing failed.
    span("c", "5", "", "frontend", false),
    span("c", "6", "5", "ratings", false),
  ]);
  const q = createTraceQueries(db);
  const found = (search: { service?: string; status?: "ok" | "error" }) =>
    q
      .traces({ ...search, sinceNs: "0", limit: 20 })
      .traces.map((x) => x.traceId[0])
      .sort()
      .join("");
  t.is(found({ service: "ratings", status: "error" }), "a", "a span of ratings errored");
  t.is(
    found({ service: "ratings", status: "ok" }),
    "bc",
    "no span of ratings errored, whatever frontend did",
  );
  t.is(found({ service: "frontend", status: "error" }), "b");
  t.is(found({ service: "frontend", status: "ok" }), "ac");
  t.is(found({ status: "error" }), "ab", "without a service, any error span");
  t.is(found({ status: "ok" }), "c", "without a service, no error span at all");
  t.is(found({ service: "ratings" }), "abc");
});
