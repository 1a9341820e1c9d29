// Spans from the real OpenTelemetry SDK, exported over OTLP/gRPC, OTLP/HTTP protobuf and OTLP/HTTP
// JSON to a real control plane, then found through the REST API and the CLI's waterfall.
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter as GrpcExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import test from "ava";
import type {
  ServiceGraph,
  ServiceInstances,
  TraceSummary,
  TraceView,
} from "../control-plane/src/telemetry/index";
import { renderWaterfall } from "../control-plane/src/telemetry/index";
import { eventually, getJson, startTelemetryPlane } from "./telemetry-support";

function provider(service: string, exporter: SpanExporter) {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": service, "host.name": "node-1" }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
}

test("spans from the OTel SDK over gRPC, HTTP protobuf and HTTP JSON become one searchable trace", async (t) => {
  const cp = await startTelemetryPlane(t);
  const web = provider("web", new GrpcExporter({ url: `http://${cp.otlpGrpc}` }));
  const reviews = provider("reviews", new ProtoExporter({ url: `http://${cp.otlpHttp}/v1/traces` }));
  const ratings = provider("ratings", new JsonExporter({ url: `http://${cp.otlpHttp}/v1/traces` }));
  t.teardown(() => Promise.all([web.shutdown(), reviews.shutdown(), ratings.shutdown()]).then(() => {}));

  // web (server) -> web calls reviews (client) -> reviews (server) -> reviews calls ratings (client)
  // -> ratings (server, fails). Each service has its own SDK and exporter, as in a mesh.
  const root = web
    .getTracer("t")
    .startSpan("GET /product", { kind: SpanKind.SERVER, attributes: { "http.route": "/product" } });
  const rootCtx = trace.setSpan(context.active(), root);
  const call = web
    .getTracer("t")
    .startSpan("GET reviews", { kind: SpanKind.CLIENT, attributes: { "peer.service": "reviews" } }, rootCtx);
  const served = reviews
    .getTracer("t")
    .startSpan(
      "GET /reviews",
      { kind: SpanKind.SERVER, attributes: { "big.value": "x".repeat(100_000) } },
      trace.setSpan(context.active(), call),
    );
  const call2 = reviews
    .getTracer("t")
    .startSpan("GET ratings", { kind: SpanKind.CLIENT }, trace.setSpan(context.active(), served));
  const failed = ratings
    .getTracer("t")
    .startSpan("GET /ratings", { kind: SpanKind.SERVER }, trace.setSpan(context.active(), call2));
  failed.setStatus({ code: SpanStatusCode.ERROR, message: "ratings unavailable" });
  failed.addEvent("retry", { attempt: 2 });
  const traceId = root.spanContext().traceId;
  // ratings' span arrives first, as the innermost hop's does in a mesh: the trace is partial.
  failed.end();
  await ratings.forceFlush();
  /** The trace as ratings' trace list shows it, once it holds `spans` spans. */
  const listed = (spans: number, what: string) =>
    eventually(async () => {
      const r = await getJson<{ traces: TraceSummary[] }>(
        `${cp.http}/api/v1/traces?service=ratings&since=5m`,
      );
      return r.body.traces.find((x) => x.traceId === traceId && x.spanCount === spans);
    }, what);
  const early = await listed(1, "ratings' span alone");
  t.true(early.partial, "its parent has not arrived");
  t.is(early.rootService, "ratings");
  // Then the root's: the hops between are still missing.
  root.end();
  await web.forceFlush();
  const middle = await listed(2, "ratings' and the root's spans");
  t.is(middle.rootService, "web");
  t.true(middle.partial, "ratings' parent has not arrived");
  for (const s of [call2, served, call]) s.end();
  await Promise.all([web.forceFlush(), reviews.forceFlush(), ratings.forceFlush()]);

  const found = await listed(5, "the trace with all five spans");
  t.is(found.rootService, "web");
  t.is(found.rootOperation, "GET /product");
  t.false(found.partial);
  t.is(found.errorCount, 1);
  t.deepEqual(found.services, ["ratings", "reviews", "web"]);

  const errors = await getJson<{ traces: TraceSummary[] }>(`${cp.http}/api/v1/traces?status=error`);
  t.true(errors.body.traces.some((x) => x.traceId === traceId));
  const ok = await getJson<{ traces: TraceSummary[] }>(`${cp.http}/api/v1/traces?status=ok`);
  t.false(ok.body.traces.some((x) => x.traceId === traceId));
  const byOp = await getJson<{ traces: TraceSummary[] }>(
    `${cp.http}/api/v1/traces?service=web&operation=GET%20%2Fproduct`,
  );
  t.is(byOp.body.traces.length, 1);
  const none = await getJson<{ traces: TraceSummary[] }>(`${cp.http}/api/v1/traces?minDurationMs=60000`);
  t.is(none.body.traces.length, 0);

  const one = await getJson<TraceView>(`${cp.http}/api/v1/traces/${traceId.toUpperCase()}`);
  t.is(one.status, 200);
  t.is(one.body.spans.length, 5);
  const bad = one.body.spans.find((s) => s.service === "ratings")!;
  t.deepEqual(bad.status, { code: "error", message: "ratings unavailable" });
  t.is(bad.kind, "server");
  t.is(bad.parentSpanId, call2.spanContext().spanId);
  t.is(bad.events[0]?.name, "retry");
  t.deepEqual(bad.events[0]?.attributes, { attempt: 2 });
  t.regex(bad.startTimeUnixNano, /^\d{19}$/);
  // A huge attribute is kept, cut to a bound, and says so.
  const big = one.body.spans.find((s) => s.name === "GET /reviews")!.attributes["big.value"] as string;
  t.true(big.length < 5000);
  t.regex(big, /truncated/);

  const waterfall = renderWaterfall(one.body);
  t.regex(waterfall, /5 spans {2}3 services {2}1 errors/);
  t.regex(waterfall, / {6}ratings: GET \/ratings \(server\) ERROR/);

  const graph = await getJson<ServiceGraph>(`${cp.http}/api/v1/graph?since=5m`);
  const edge = (s: string, d: string) => graph.body.edges.find((e) => e.source === s && e.target === d);
  t.is(edge("web", "reviews")?.requests, 1);
  t.is(edge("web", "reviews")?.errorRate, 0);
  t.is(edge("reviews", "ratings")?.errorRate, 1);
  t.true((edge("reviews", "ratings")?.p99Ms ?? -1) >= 0);
  t.deepEqual(
    graph.body.nodes.map((n) => n.service),
    ["ratings", "reviews", "web"],
  );
  t.is(graph.body.nodes.find((n) => n.service === "ratings")?.errorRate, 1);

  const missing = await getJson<{ error: string }>(`${cp.http}/api/v1/traces/${"f".repeat(32)}`);
  t.is(missing.status, 404);
  t.regex(missing.body.error, /not found: it was not sampled .* 'weft mesh-logs --trace f{32}'/);
});

test("a service's instances: each replica's requests, errors and latency, from the spans it sent", async (t) => {
  const cp = await startTelemetryPlane(t);
  const replica = (instance: string, workload: string) =>
    new BasicTracerProvider({
      resource: resourceFromAttributes({
        "service.name": "catalog",
        "service.instance.id": instance,
        "weft.workload": workload,
      }),
      spanProcessors: [
        new SimpleSpanProcessor(new ProtoExporter({ url: `http://${cp.otlpHttp}/v1/traces` })),
      ],
    });
  const one = replica("catalog-1.aaaa", "catalog-1");
  const two = replica("catalog-2.bbbb", "catalog-2");
  // An app's own SDK beside the sidecars: no instance id, no workload.
  const bare = provider("catalog", new ProtoExporter({ url: `http://${cp.otlpHttp}/v1/traces` }));
  t.teardown(() => Promise.all([one.shutdown(), two.shutdown(), bare.shutdown()]).then(() => {}));

  const serve = (p: BasicTracerProvider, n: number, failing: number, kind = SpanKind.SERVER) => {
    for (let i = 0; i < n; i++) {
      const span = p.getTracer("t").startSpan("GET /products", { kind });
      if (i < failing) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
  serve(one, 6, 2);
  serve(two, 3, 0);
  serve(bare, 1, 0);
  // Calls a replica makes are not requests it served.
  serve(two, 4, 4, SpanKind.CLIENT);
  await Promise.all([one.forceFlush(), two.forceFlush(), bare.forceFlush()]);

  const url = `${cp.http}/api/v1/services/catalog/instances?since=5m`;
  const got = await eventually(async () => {
    const r = await getJson<ServiceInstances>(url);
    return r.body.instances.reduce((n, i) => n + i.requests, 0) === 10 ? r.body : undefined;
  }, "all ten served requests");
  t.is(got.service, "catalog");
  t.deepEqual(
    got.instances.map((i) => [i.instance, i.workload, i.requests, i.errorRate]),
    [
      ["catalog-1.aaaa", "catalog-1", 6, 0.3333],
      ["catalog-2.bbbb", "catalog-2", 3, 0],
      ["", "", 1, 0],
    ],
  );
  for (const i of got.instances) {
    t.true(i.requestRate > 0, i.instance);
    t.true(i.p99Ms >= i.p50Ms, i.instance);
  }
  t.false(got.sampled);

  const none = await getJson<ServiceInstances>(`${cp.http}/api/v1/services/nothing-here/instances`);
  t.is(none.status, 200);
  t.deepEqual(none.body.instances, []);
});

test("bad query parameters get a 400 that names the parameter", async (t) => {
  const cp = await startTelemetryPlane(t);
  for (const [query, expected] of [
    ["traces?limit=0", /limit must be a whole number from 1 to 1000/],
    ["traces?limit=abc", /limit/],
    ["traces?minDurationMs=-5", /minDurationMs must be a number/],
    ["traces?status=broken", /status must be "ok" or "error"/],
    ["traces?since=yesterday", /since must be a duration/],
    ["traces?servce=web", /unknown parameter "servce"/],
    ["traces/not-a-trace-id", /32 hex characters/],
    ["graph?since=5x", /since must be/],
    ["services/catalog/instances?since=5x", /since must be/],
    ["services/catalog/instances?service=x", /unknown parameter "service"/],
    ["services/Bad%20Name/instances", /service name/],
    ["logs?level=loud", /level must be one of/],
    ["logs?traceId=123", /traceId must be 32 hex/],
    ["logs?follow=maybe", /follow must be true or false/],
  ] as const) {
    const r = await getJson<{ error: string }>(`${cp.http}/api/v1/${query}`);
    t.is(r.status, 400, query);
    t.regex(r.body.error, expected, query);
  }
});
