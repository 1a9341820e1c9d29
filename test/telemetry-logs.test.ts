// Log lines through the LogSink (a real gRPC client) and OTLP logs (the OTel SDK's exporter), found
// by filters and full-text search, and followed live as NDJSON.
import * as grpc from "@grpc/grpc-js";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import test from "ava";
import {
  type LogView,
  loadTelemetryProto,
  streamMeshLogs,
  type TelemetryStatus,
} from "../control-plane/src/telemetry/index";
import type { LogRecord } from "../proto/gen/weft/v1/LogRecord";
import type { LogSinkClient } from "../proto/gen/weft/v1/LogSink";
import type { PushLogsResponse__Output } from "../proto/gen/weft/v1/PushLogsResponse";
import { eventually, getJson, startTelemetryPlane } from "./telemetry-support";

function sinkClient(address: string): LogSinkClient {
  const proto = loadTelemetryProto();
  return new proto.weft.v1.LogSink(address, grpc.credentials.createInsecure());
}

function push(
  client: LogSinkClient,
  records: LogRecord[],
  droppedSinceLast = 0,
): Promise<PushLogsResponse__Output> {
  return new Promise((resolve, reject) =>
    client.Push(
      { records, dropped_since_last: String(droppedSinceLast) },
      { deadline: Date.now() + 10_000 },
      (err, r) => (err ? reject(err) : resolve(r!)),
    ),
  );
}

const line = (service: string, message: string, extra: Partial<LogRecord> = {}): LogRecord => ({
  time_unix_nano: String(BigInt(Date.now()) * 1_000_000n),
  service,
  container: `${service}-1`,
  instance: "node-1",
  level: "info",
  source: "stdout",
  message,
  ...extra,
});

test("the LogSink stores batches that REST finds by service, level, trace and text", async (t) => {
  const cp = await startTelemetryPlane(t);
  const client = sinkClient(cp.grpcAddress);
  t.teardown(() => client.close());
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const r = await push(
    client,
    [
      line("reviews", "GET /reviews/1 200 in 12ms", {
        source: "access",
        trace_id: traceId,
        span_id: "00f067aa0ba902b7",
      }),
      line("reviews", "database connection refused, retrying", { level: "error", source: "stderr" }),
      line("ratings", "ratings cache warmed", { level: "WARNING" }),
      line("ratings", "x".repeat(100_000)),
    ],
    7,
  );
  t.deepEqual(r, { accepted: "4", dropped: "0" });
  t.is(cp.telemetry.store.logs.droppedLines, 7, "drops the sender reports are counted");
  const status = await getJson<TelemetryStatus>(`${cp.http}/api/v1/telemetry`);
  t.like(status.body.logs, { accepted: 4, dropped: 7 });

  const all = await getJson<{ logs: LogView[] }>(`${cp.http}/api/v1/logs`);
  t.is(all.body.logs.length, 4);
  const byService = await getJson<{ logs: LogView[] }>(`${cp.http}/api/v1/logs?service=reviews`);
  t.deepEqual(
    byService.body.logs.map((l) => l.source),
    ["access", "stderr"],
  );
  const warnUp = await getJson<{ logs: LogView[] }>(`${cp.http}/api/v1/logs?level=warn`);
  t.deepEqual(warnUp.body.logs.map((l) => l.level).sort(), ["error", "warn"]);
  const byTrace = await getJson<{ logs: LogView[] }>(`${cp.http}/api/v1/logs?traceId=${traceId}`);
  t.is(byTrace.body.logs.length, 1);
  t.is(byTrace.body.logs[0]?.spanId, "00f067aa0ba902b7");
  const text = await getJson<{ logs: LogView[] }>(
    `${cp.http}/api/v1/logs?q=${encodeURIComponent("connection retry*")}`,
  );
  t.deepEqual(
    text.body.logs.map((l) => l.message),
    ["database connection refused, retrying"],
  );
  const syntax = await getJson<{ logs: LogView[] }>(
    `${cp.http}/api/v1/logs?q=${encodeURIComponent('"AND ( OR')}`,
  );
  t.is(syntax.status, 200, "search text is never parsed as FTS syntax");
  const byContainer = await getJson<{ logs: LogView[] }>(
    `${cp.http}/api/v1/logs?container=ratings-1&limit=1`,
  );
  t.is(byContainer.body.logs.length, 1);
  t.true(byContainer.body.logs[0]!.message.length < 20_000, "a huge message is cut to a bound");
});

test("a batch over the limit is cut and the excess reported as dropped", async (t) => {
  const cp = await startTelemetryPlane(t);
  const client = sinkClient(cp.grpcAddress);
  t.teardown(() => client.close());
  const records = Array.from({ length: 10_050 }, (_, i) => line("flood", `line ${i}`));
  const r = await push(client, records);
  t.deepEqual(r, { accepted: "10000", dropped: "50" });
  t.is(cp.telemetry.store.logs.count(), 10_000);
});

test("a line with a time the store cannot keep is stored at its arrival, with the rest of its batch", async (t) => {
  // After 2262 (uint64 on the wire, past SQLite's 63 bits): the whole batch was refused as
  // UNAVAILABLE, and a sidecar's shipper kept retrying it.
  const cp = await startTelemetryPlane(t);
  const client = sinkClient(cp.grpcAddress);
  t.teardown(() => client.close());
  const before = BigInt(Date.now()) * 1_000_000n;
  const r = await push(client, [
    line("late", "from the far future", { time_unix_nano: "18446744073709551615" }),
    line("late", "on time"),
  ]);
  t.deepEqual(r, { accepted: "2", dropped: "0" });
  const stored = await getJson<{ logs: LogView[] }>(`${cp.http}/api/v1/logs?service=late&limit=10`);
  t.deepEqual(stored.body.logs.map((l) => l.message).sort(), ["from the far future", "on time"]);
  const far = stored.body.logs.find((l) => l.message === "from the far future");
  t.true(BigInt(Date.parse(far?.time ?? "")) * 1_000_000n >= before - 1_000_000_000n, far?.time);
});

test("follow=true streams history, then new lines, filtered, without repeats", async (t) => {
  const cp = await startTelemetryPlane(t);
  const client = sinkClient(cp.grpcAddress);
  t.teardown(() => client.close());
  await push(client, [line("web", "before 1"), line("other", "not mine"), line("web", "before 2")]);

  const seen: LogView[] = [];
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  const following = streamMeshLogs(
    { controlPlane: cp.http, service: "web", follow: true, signal: stop.signal },
    (l) => seen.push(l),
  );
  await eventually(async () => (seen.length >= 2 ? true : undefined), "the history lines");
  await push(client, [line("web", "after 1"), line("other", "still not mine")]);
  await push(client, [line("web", "after 2")]);
  await eventually(async () => (seen.length >= 4 ? true : undefined), "the live lines");
  t.deepEqual(
    seen.map((l) => l.message),
    ["before 1", "before 2", "after 1", "after 2"],
  );
  t.is(cp.telemetry.store.logs.followers(), 1);
  stop.abort();
  await following;
  await eventually(
    async () => (cp.telemetry.store.logs.followers() === 0 ? true : undefined),
    "the follower to go",
  );
  t.pass();
});

test("OTLP logs from the OTel SDK land in the same store", async (t) => {
  const cp = await startTelemetryPlane(t);
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ "service.name": "checkout", "container.name": "checkout-7" }),
    // sdk-logs 0.223 takes its exporter in an options object.
    processors: [
      new SimpleLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: `http://${cp.otlpHttp}/v1/logs` }),
      }),
    ],
  });
  t.teardown(() => provider.shutdown());
  provider
    .getLogger("t")
    .emit({ severityText: "ERROR", body: "payment declined", attributes: { order: 42 } });
  await provider.forceFlush();
  const found = await eventually(async () => {
    const r = await getJson<{ logs: LogView[] }>(`${cp.http}/api/v1/logs?service=checkout&q=payment`);
    return r.body.logs[0];
  }, "the OTLP log line");
  t.is(found.level, "error");
  t.is(found.container, "checkout-7");
  t.is(found.source, "otlp");
  t.is(found.attributes.order, "42");
});
