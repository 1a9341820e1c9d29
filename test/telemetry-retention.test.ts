// Retention: spans and log lines past their age go, and the oldest go first when a table is over
// its size budget; what is newer stays queryable.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { telemetryOptionsFromFlags } from "../control-plane/src/telemetry/cli-flags";
import { type LogEntry, type SpanRecord, TelemetryStore } from "../control-plane/src/telemetry/index";

const MS = 1_000_000n;

function span(n: number, startMs: number): SpanRecord {
  return {
    traceId: (n + 1).toString(16).padStart(32, "0"),
    spanId: "1".padStart(16, "0"),
    parentSpanId: "",
    name: `op-${n}`,
    kind: 2,
    service: "svc",
    startNs: BigInt(startMs) * MS,
    durationNs: 1_000_000,
    statusCode: 0,
    statusMessage: "",
    attributes: { payload: "p".repeat(200) },
    resource: {},
    events: [],
    peerService: "",
  };
}

function logLine(n: number, timeMs: number): LogEntry {
  return {
    timeNs: BigInt(timeMs) * MS,
    service: "svc",
    container: "c",
    instance: "i",
    level: "info",
    source: "stdout",
    message: `line ${n} ${"m".repeat(200)}`,
    traceId: "",
    spanId: "",
    attributes: {},
  };
}

function store(
  t: { teardown(fn: () => Promise<void> | void): void },
  retention: ConstructorParameters<typeof TelemetryStore>[0]["retention"],
) {
  const dir = mkdtempSync(join(tmpdir(), "weft-ret-"));
  const s = new TelemetryStore({
    path: join(dir, "telemetry.db"),
    retention,
    retentionIntervalMs: 3_600_000,
  });
  t.teardown(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return s;
}

test("spans and logs older than their retention are deleted, newer ones stay", async (t) => {
  const s = store(t, { traceMaxAgeMs: 3_600_000, logMaxAgeMs: 600_000 });
  const now = Date.now();
  s.addSpans([
    span(1, now - 2 * 3_600_000),
    span(2, now - 60_000),
    ...Array.from({ length: 5000 }, (_, i) => span(10 + i, now - 7_200_000 - i)),
  ]);
  s.addLogs([logLine(1, now - 3_600_000), logLine(2, now - 1000)]);
  await s.enforceRetention();
  t.is(s.spans.count(), 1);
  t.is(s.logs.count(), 1);
  const left = await s.queries.run("traces", { sinceNs: "0", limit: 10 });
  t.deepEqual(
    left.traces.map((x) => x.rootOperation),
    ["op-2"],
  );
  const logs = await s.queries.run("logs", { sinceNs: "0", limit: 10, q: "line" });
  t.is(logs.logs.length, 1, "the full-text index forgets deleted lines too");
  t.regex(logs.logs[0]!.message, /^line 2 /);
});

test("over the size budget, the oldest spans go first until the store is under it", async (t) => {
  const budget = 300_000;
  const s = store(t, { traceMaxBytes: budget, logMaxBytes: budget });
  const now = Date.now();
  for (let b = 0; b < 10; b++) {
    s.addSpans(Array.from({ length: 500 }, (_, i) => span(b * 500 + i, now - 100_000 + b * 500 + i)));
    s.addLogs(Array.from({ length: 500 }, (_, i) => logLine(b * 500 + i, now - 100_000 + b * 500 + i)));
  }
  await s.retention.settled();
  await s.enforceRetention();
  t.true(s.spans.storedBytes <= budget, `${s.spans.storedBytes} bytes of spans`);
  t.true(s.logs.storedBytes <= budget, `${s.logs.storedBytes} bytes of logs`);
  t.true(s.spans.count() > 100 && s.spans.count() < 5000);
  const newest = await s.queries.run("traces", { sinceNs: "0", limit: 1 });
  t.is(newest.traces[0]?.rootOperation, "op-4999", "the newest span survives");
  const oldest = await s.queries.run("traces", { sinceNs: "0", limit: 1000, operation: "op-0" });
  t.is(oldest.traces.length, 0, "the oldest span went first");
});

test("retention flags parse durations and sizes, and refuse nonsense", (t) => {
  const o = telemetryOptionsFromFlags({
    "otlp-grpc-port": "0",
    "otlp-http-port": undefined,
    "telemetry-db": "/tmp/x.db",
    "trace-retention": "2h",
    "trace-max-mb": "64",
    "log-retention": "7d",
    "log-max-mb": undefined,
  });
  t.deepEqual(o.telemetryRetention, {
    traceMaxAgeMs: 7_200_000,
    traceMaxBytes: 64 * 1024 * 1024,
    logMaxAgeMs: 7 * 86_400_000,
  });
  t.is(o.otlpGrpcPort, 0);
  t.is(o.otlpHttpPort, 4318);
  t.is(o.otlpPortBusy, "fail");
  const none = {
    "otlp-grpc-port": undefined,
    "otlp-http-port": undefined,
    "telemetry-db": undefined,
    "trace-retention": undefined,
    "trace-max-mb": undefined,
    "log-retention": undefined,
    "log-max-mb": undefined,
  };
  t.is(telemetryOptionsFromFlags(none).otlpPortBusy, "skip");
  t.throws(() => telemetryOptionsFromFlags({ ...none, "trace-retention": "forever" }), {
    message: /--trace-retention expects a duration/,
  });
  t.throws(() => telemetryOptionsFromFlags({ ...none, "log-max-mb": "0" }), {
    message: /--log-max-mb expects a whole number/,
  });
});
