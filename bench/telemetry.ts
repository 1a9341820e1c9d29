// Telemetry ingest and query cost on the control plane:
//   1. spans per CPU-second: real OTLP/protobuf requests (made by the OTel SDK's serializer, 512
//      spans each) decoded and stored, as the receivers do;
//   2. log lines per CPU-second through the LogSink path (wire records to stored, FTS-indexed lines);
//   3. trace query latency with SPANS stored spans (default one million), median and max of 5 runs,
//      through the query worker as the REST API runs them.
// Usage: node --import tsx bench/telemetry.ts   (SPANS=1000000 INGEST=100000)
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { logFromWire, type SpanRecord, TelemetryStore } from "../control-plane/src/telemetry/index";
import { decodeTraceRequest } from "../control-plane/src/telemetry/otlp-protobuf";
import { median } from "./stats";

const SPANS = Number(process.env.SPANS ?? 1_000_000);
const INGEST = Number(process.env.INGEST ?? 100_000);
const BATCH = 512;
const SERVICES = 20;

function cpuMs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

/** OTLP requests of BATCH spans each, made by the SDK (client/server pairs, realistic attributes). */
function otlpRequests(total: number): Buffer[] {
  const out: Buffer[] = [];
  for (let made = 0; made < total; made += BATCH) {
    const memory = new InMemorySpanExporter();
    const p = new BasicTracerProvider({
      resource: resourceFromAttributes({
        "service.name": `svc-${out.length % SERVICES}`,
        "host.name": "node-1",
      }),
      spanProcessors: [new SimpleSpanProcessor(memory)],
    });
    const tracer = p.getTracer("bench");
    for (let i = 0; i < BATCH; i++) {
      const s = tracer.startSpan(`GET /api/items/{id}`, {
        kind: i % 2 ? SpanKind.CLIENT : SpanKind.SERVER,
        attributes: {
          "http.request.method": "GET",
          "http.route": "/api/items/{id}",
          "http.response.status_code": 200,
          "server.address": `svc-${i % SERVICES}`,
          "url.path": `/api/items/${i}`,
          "weft.retry_count": 0,
          "network.peer.address": "10.88.0.12",
        },
      });
      if (i % 50 === 0) s.setStatus({ code: SpanStatusCode.ERROR, message: "upstream reset" });
      s.end();
    }
    out.push(Buffer.from(ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!));
  }
  return out;
}

/** Stored spans for the query test, made directly (the OTLP path is measured above). */
function fillStore(store: TelemetryStore, total: number, nowMs: number): void {
  const windowMs = 3_600_000;
  for (let base = 0; base < total; base += 2 * 1000) {
    const batch: SpanRecord[] = [];
    for (let i = 0; i < 1000 && base + 2 * i < total; i++) {
      const n = base / 2 + i;
      const traceId = n.toString(16).padStart(32, "0");
      const start = BigInt(nowMs - Math.floor((n / (total / 2)) * windowMs)) * 1_000_000n;
      const from = `svc-${n % SERVICES}`;
      const to = `svc-${(n * 7 + 3) % SERVICES}`;
      const attributes = {
        "http.request.method": "GET",
        "http.route": "/api/items/{id}",
        "http.response.status_code": 200,
      };
      const common = {
        traceId,
        attributes,
        // Three replicas per service, named as a sidecar names them (the instances query groups by them).
        resource: {
          "host.name": "node-1",
          "service.instance.id": `replica-${n % 3}`,
          "weft.workload": `w-${n % 3}`,
        },
        events: [],
        statusMessage: "",
      };
      batch.push({
        ...common,
        spanId: "a".padStart(16, "0"),
        parentSpanId: "",
        name: "GET /api/items/{id}",
        kind: 3,
        service: from,
        startNs: start,
        durationNs: 200_000 + (n % 997) * 10_000,
        statusCode: n % 50 === 0 ? 2 : 0,
        peerService: to,
      });
      batch.push({
        ...common,
        spanId: "b".padStart(16, "0"),
        parentSpanId: "a".padStart(16, "0"),
        name: "GET /api/items/{id}",
        kind: 2,
        service: to,
        startNs: start + 50_000n,
        durationNs: 150_000 + (n % 991) * 10_000,
        statusCode: 0,
        peerService: "",
      });
    }
    store.addSpans(batch);
  }
}

async function timeQuery(label: string, run: () => Promise<unknown>): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  console.log(
    `  ${label.padEnd(44)} median ${median(times).toFixed(1)} ms   max ${Math.max(...times).toFixed(1)} ms`,
  );
}

const dir = mkdtempSync(join(tmpdir(), "weft-bench-tel-"));
try {
  const nowMs = Date.now();
  console.log(`telemetry bench (1 process; "per core" = per CPU-second of the process)\n`);

  // 1. Spans: decode + store, CPU time.
  const ingestStore = new TelemetryStore({ path: join(dir, "ingest.db"), retentionIntervalMs: 3_600_000 });
  const requests = otlpRequests(INGEST);
  let cpu = process.cpuUsage();
  let t0 = performance.now();
  let spans = 0;
  for (const body of requests) {
    const decoded = decodeTraceRequest(body);
    spans += ingestStore.addSpans(decoded.spans);
  }
  let cpuSpent = cpuMs(cpu);
  console.log(`span ingest (OTLP/protobuf decode + SQLite, ${BATCH}-span requests, ${spans} spans)`);
  console.log(
    `  ${Math.round(spans / (cpuSpent / 1000))} spans per CPU-second; wall ${Math.round(spans / ((performance.now() - t0) / 1000))} spans/s`,
  );

  // 2. Log lines through the LogSink path.
  const LINES = INGEST;
  const wire = Array.from({ length: 1000 }, (_, i) => ({
    time_unix_nano: String(BigInt(nowMs) * 1_000_000n + BigInt(i)),
    service: `svc-${i % SERVICES}`,
    container: `svc-${i % SERVICES}-1`,
    instance: "node-1",
    level: i % 20 === 0 ? "error" : "info",
    source: "access",
    message: `GET /api/items/${i} 200 ${i % 97}ms upstream=10.88.0.${i % 200}:8080 bytes=${i * 13}`,
    trace_id: (i + 1).toString(16).padStart(32, "0"),
    span_id: (i + 1).toString(16).padStart(16, "0"),
    attributes: { method: "GET", status: "200" },
  }));
  cpu = process.cpuUsage();
  t0 = performance.now();
  for (let n = 0; n < LINES; n += wire.length) {
    const now = BigInt(Date.now()) * 1_000_000n;
    ingestStore.addLogs(wire.map((r) => logFromWire(r, now)));
  }
  cpuSpent = cpuMs(cpu);
  console.log(`log ingest (LogSink records -> stored, full-text indexed; 1000-line batches, ${LINES} lines)`);
  console.log(
    `  ${Math.round(LINES / (cpuSpent / 1000))} lines per CPU-second; wall ${Math.round(LINES / ((performance.now() - t0) / 1000))} lines/s`,
  );
  await ingestStore.close();

  // 3. Queries over SPANS stored spans.
  const store = new TelemetryStore({ path: join(dir, "query.db"), retentionIntervalMs: 3_600_000 });
  t0 = performance.now();
  fillStore(store, SPANS, nowMs);
  const fillS = (performance.now() - t0) / 1000;
  const sizeMb = statSync(join(dir, "query.db")).size / 1024 / 1024;
  console.log(
    `trace queries over ${store.spans.count()} stored spans (filled in ${fillS.toFixed(1)} s, ${Math.round(SPANS / fillS)} spans/s; db ${sizeMb.toFixed(0)} MB)`,
  );
  const since = (ago: number) => (BigInt(nowMs - ago) * 1_000_000n).toString();
  const hour = 3_600_000;
  await timeQuery("latest 20 traces (last hour)", () =>
    store.queries.run("traces", { sinceNs: since(hour), limit: 20 }),
  );
  await timeQuery("service=svc-3, 20 traces", () =>
    store.queries.run("traces", { service: "svc-3", sinceNs: since(hour), limit: 20 }),
  );
  await timeQuery("service + operation + minDuration=9ms", () =>
    store.queries.run("traces", {
      service: "svc-3",
      operation: "GET /api/items/{id}",
      minDurationNs: 9_000_000,
      sinceNs: since(hour),
      limit: 20,
    }),
  );
  await timeQuery("status=error, 20 traces", () =>
    store.queries.run("traces", { status: "error", sinceNs: since(hour), limit: 20 }),
  );
  await timeQuery("status=ok, 20 traces", () =>
    store.queries.run("traces", { status: "ok", sinceNs: since(hour), limit: 20 }),
  );
  await timeQuery("one trace by id", () =>
    store.queries.run("trace", { traceId: (12345).toString(16).padStart(32, "0") }),
  );
  await timeQuery("service graph, last 15 min", () =>
    store.queries.run("graph", { sinceNs: since(15 * 60_000), nowNs: since(0) }),
  );
  await timeQuery("service graph, last hour (all spans)", () =>
    store.queries.run("graph", { sinceNs: since(hour), nowNs: since(0) }),
  );
  await timeQuery("svc-3's instances, last 15 min", () =>
    store.queries.run("instances", { service: "svc-3", sinceNs: since(15 * 60_000), nowNs: since(0) }),
  );
  await timeQuery("svc-3's instances, last hour", () =>
    store.queries.run("instances", { service: "svc-3", sinceNs: since(hour), nowNs: since(0) }),
  );
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
