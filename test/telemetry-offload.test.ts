// Trace queries run off the main thread: while heavy graph queries are running over many spans, a
// daemon's registration completes and the resulting config push reaches a subscribed sidecar.
import test from "ava";
import { openConfigStream, syncEndpoints } from "../control-plane/src/grpc-testing";
import type { SpanRecord } from "../control-plane/src/telemetry/index";
import { TYPE_ENDPOINTS } from "../proto/index";
import { startTelemetryPlane } from "./telemetry-support";

function manySpans(pairs: number, nowNs: bigint): SpanRecord[][] {
  const batches: SpanRecord[][] = [];
  for (let b = 0; b < pairs / 1000; b++) {
    const batch: SpanRecord[] = [];
    for (let i = 0; i < 1000; i++) {
      const n = b * 1000 + i;
      const traceId = n.toString(16).padStart(32, "0");
      const common = {
        attributes: { "http.method": "GET" },
        resource: {},
        events: [],
        statusMessage: "",
        peerService: "",
      };
      const start = nowNs - BigInt(n) * 1000n;
      batch.push({
        ...common,
        traceId,
        spanId: "1".padStart(16, "0"),
        parentSpanId: "",
        name: "GET /",
        kind: 3,
        service: `svc${n % 10}`,
        startNs: start,
        durationNs: (n % 1000) * 100_000,
        statusCode: n % 50 === 0 ? 2 : 0,
      });
      batch.push({
        ...common,
        traceId,
        spanId: "2".padStart(16, "0"),
        parentSpanId: "1".padStart(16, "0"),
        name: "GET /",
        kind: 2,
        service: `svc${(n + 1) % 10}`,
        startNs: start + 10n,
        durationNs: 1_000_000,
        statusCode: 0,
      });
    }
    batches.push(batch);
  }
  return batches;
}

test("a registration and its config push complete while heavy trace queries run", async (t) => {
  const cp = await startTelemetryPlane(t);
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  for (const batch of manySpans(50_000, nowNs)) cp.telemetry.store.addSpans(batch);

  const stream = openConfigStream(cp.grpcAddress, { id: "productpage.abc", workload: "productpage" });
  t.teardown(() => stream.close());
  stream.subscribe(TYPE_ENDPOINTS, ["reviews"]);

  // Several graph queries over 100,000 spans, queued on the one query worker: seconds of SQLite work.
  let queriesDone = false;
  const started = Date.now();
  const queries = Promise.all(
    Array.from({ length: 6 }, () => fetch(`${cp.http}/api/v1/graph?since=1h`).then((r) => r.json())),
  ).then((results) => {
    queriesDone = true;
    return results as { edges: unknown[] }[];
  });
  // Let the first query reach the worker before registering.
  await new Promise((r) => setTimeout(r, 50));
  await syncEndpoints(cp.grpcAddress, {
    source: "daemon:n1",
    endpoints: [
      {
        id: "c1",
        service: "reviews",
        address: "10.88.0.2",
        ports: [{ name: "http", port: 9080, protocol: "http" }],
        labels: {},
        workload: "reviews-1",
        node: "n1",
        healthy: true,
      },
    ],
    services: [{ name: "reviews", ports: [{ name: "http", port: 9080, protocol: "http" }] }],
  });
  let pushed = await stream.next(TYPE_ENDPOINTS, 30_000);
  while ((pushed.resources[0]?.endpoints?.endpoints.length ?? 0) === 0) {
    stream.ack(pushed);
    pushed = await stream.next(TYPE_ENDPOINTS, 30_000);
  }
  const registeredMs = Date.now() - started;
  t.false(queriesDone, "the registration and push finished while the queries were still running");
  t.deepEqual(
    pushed.resources[0]?.endpoints?.endpoints.map((e) => e.address),
    ["10.88.0.2"],
  );
  const results = await queries;
  t.log(`registration + push: ${registeredMs} ms; six graph queries: ${Date.now() - started} ms`);
  t.is(results[0]?.edges.length, 10);
});
