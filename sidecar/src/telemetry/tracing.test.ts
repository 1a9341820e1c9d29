import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { hrTimeToMilliseconds as ms } from "@opentelemetry/core";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import test from "ava";
import { KeepingExporter } from "../testing/keeping-exporter";
import { rawMethod } from "../testing/raw-method";
import { ControlPlaneSpanExporter, spanExporterFor } from "./span-exporters";
import type { HeaderBag } from "./trace-context";
import { MeshTracer, setServer, type TracingSettings } from "./tracing";

const ON: TracingSettings = { enabled: true, samplingRatio: 1, otlpEndpoint: "", resourceAttributes: {} };
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

/** null: no telemetry config at all. */
function tracer(settings: TracingSettings | null = ON) {
  const exporters: KeepingExporter[] = [];
  const t = new MeshTracer({
    workload: "front-1",
    service: "front",
    nodeId: "front-1.abc",
    exporterFor: () => {
      const e = new KeepingExporter();
      exporters.push(e);
      return e;
    },
  });
  t.configure(settings ?? undefined);
  const spans = async (): Promise<ReadableSpan[]> => {
    const all: ReadableSpan[] = [];
    for (const e of exporters) all.push(...e.getFinishedSpans());
    return all;
  };
  return { t, spans, flush: () => t.shutdown() };
}

test("an inbound request continues the caller's W3C trace and the next hop gets this span as parent", async (t) => {
  const { t: tr, spans, flush } = tracer();
  const incoming: HeaderBag = { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: "vendor=x" };
  const span = tr.start(incoming, {
    direction: "inbound",
    method: "GET",
    path: "/reviews?id=1",
    authority: "reviews:8080",
    protocol: "http/1.1",
    service: "reviews",
    peerAddress: "10.88.0.5",
    route: "default",
  });
  t.is(span.traceId, TRACE);
  const out: HeaderBag = { ...incoming };
  span.inject(out);
  t.is(out.traceparent, `00-${TRACE}-${span.spanId}-01`);
  t.is(out.tracestate, "vendor=x");
  t.is(span.traceparent(), undefined, "a tracestate goes too, so inject() is needed");
  span.end({ status: 503, upstream: "127.0.0.1:8080", retries: 1 });
  span.end({ status: 200 });
  await flush();
  const [s] = await spans();
  t.truthy(s);
  t.is(s!.kind, SpanKind.SERVER);
  t.is(s!.name, "GET /reviews");
  t.is(s!.parentSpanContext?.spanId, PARENT);
  t.is(s!.status.code, SpanStatusCode.ERROR, "a 5xx is an error, and end() counts once");
  t.like(s!.attributes, {
    "http.response.status_code": 503,
    "weft.service": "reviews",
    "weft.route": "default",
    "weft.upstream": "127.0.0.1:8080",
    "weft.retries": 1,
    "network.peer.address": "10.88.0.5",
    "server.address": "reviews",
    "server.port": 8080,
  });
  t.is(s!.resource.attributes["service.name"], "front");
});

test("a 4xx the sidecar answered itself carries its reason and is not the server's error", async (t) => {
  const { t: tr, spans, flush } = tracer();
  const span = tr.start(
    {},
    {
      direction: "inbound",
      method: "GET",
      path: "/ratings",
      authority: "ratings:8080",
      protocol: "http/1.1",
      service: "ratings",
      route: "default",
    },
  );
  const reason = 'RBAC: access denied: service "reviews" may not GET /ratings on "ratings"';
  span.end({ status: 403, error: reason });
  await flush();
  const [s] = await spans();
  t.is(s?.status.code, SpanStatusCode.UNSET);
  t.like(s?.attributes, { "http.response.status_code": 403, "weft.reason": reason });
});

test("server.address and server.port are the authority's host and port, as the semantic conventions split them", (t) => {
  const split = (authority: string) => {
    const attributes: Record<string, unknown> = {};
    const setAttribute = (k: string, v: string | number) => {
      attributes[k] = v;
    };
    setServer({ setAttribute }, authority);
    return attributes;
  };
  t.deepEqual(split("reviews:8080"), { "server.address": "reviews", "server.port": 8080 });
  t.deepEqual(split("reviews"), { "server.address": "reviews" });
  t.deepEqual(split("10.96.0.7:80"), { "server.address": "10.96.0.7", "server.port": 80 });
  t.deepEqual(split("[::1]:8443"), { "server.address": "::1", "server.port": 8443 });
  t.deepEqual(split("[::1]"), { "server.address": "[::1]" });
  // An unbracketed IPv6 address has no port in it; what is not a port stays in the address.
  t.deepEqual(split("fe80::1"), { "server.address": "fe80::1" });
  t.deepEqual(split("reviews:http"), { "server.address": "reviews:http" });
  t.deepEqual(split("reviews:99999"), { "server.address": "reviews:99999" });
  t.deepEqual(split("reviews:"), { "server.address": "reviews:" });
  t.deepEqual(split(""), { "server.address": "" });
});

test("the span exported is the one the next hop names as its parent, timed as its request ran", async (t) => {
  const { t: tr, spans, flush } = tracer();
  const before = Date.now();
  const span = tr.start(
    { traceparent: `00-${TRACE}-${PARENT}-01` },
    { direction: "outbound", method: "POST", path: "/pay", authority: "pay", protocol: "http/1.1" },
  );
  const out: HeaderBag = {};
  span.inject(out);
  await new Promise((r) => setTimeout(r, 20));
  span.end({ status: 200 });
  const after = Date.now();
  // Exported well after it ended (batches leave later): its times must be the request's.
  await new Promise((r) => setTimeout(r, 300));
  await flush();
  const [s] = await spans();
  t.truthy(s);
  t.is(out.traceparent, `00-${s!.spanContext().traceId}-${s!.spanContext().spanId}-01`);
  t.is(s!.parentSpanContext?.spanId, PARENT);
  t.true(ms(s!.startTime) >= before, "started when the request did");
  t.true(
    ms(s!.endTime) < after + 1,
    `ended when the request did, not when exported (${ms(s!.endTime) - after} ms after)`,
  );
  t.true(ms(s!.endTime) - ms(s!.startTime) >= 15, "and lasted as long");
});

test("spans start and end to the microsecond, not on whole milliseconds", async (t) => {
  const { t: tr, spans, flush } = tracer();
  for (let i = 0; i < 20; i++) {
    const span = tr.start(
      {},
      { direction: "inbound", method: "GET", path: "/", authority: "a", protocol: "http/1.1" },
    );
    await new Promise((r) => setImmediate(r));
    span.end({ status: 200 });
  }
  await flush();
  const got = await spans();
  t.is(got.length, 20);
  const fractional = (time: [number, number]) => time[1] % 1e6 !== 0;
  t.true(
    got.filter((s) => fractional(s.startTime) && fractional(s.endTime)).length >= 10,
    JSON.stringify(got.map((s) => [s.startTime, s.endTime])),
  );
});

test("an ended span is exported without a flush, however few there are", async (t) => {
  const { t: tr, spans, flush } = tracer();
  t.teardown(flush);
  tr.start({}, { direction: "inbound", method: "GET", path: "/", authority: "a", protocol: "http/1.1" }).end({
    status: 200,
  });
  for (let i = 0; i < 100 && (await spans()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.is((await spans()).length, 1);
});

test("B3 is accepted in both forms and passed on in the form it came in", async (t) => {
  const { t: tr, flush } = tracer();
  const single = tr.start(
    { b3: `${TRACE}-${PARENT}-1` },
    {
      direction: "outbound",
      method: "GET",
      path: "/",
      authority: "back",
      protocol: "http/1.1",
    },
  );
  t.is(single.traceId, TRACE);
  const out1: HeaderBag = { b3: `${TRACE}-${PARENT}-1` };
  single.inject(out1);
  t.is(out1.b3, `${TRACE}-${single.spanId}-1`);
  t.is(single.traceparent(), undefined, "B3 goes too, so inject() is needed");
  t.regex(String(out1.traceparent), new RegExp(`^00-${TRACE}-${single.spanId}-01$`));

  const multi = tr.start(
    { "x-b3-traceid": TRACE, "x-b3-spanid": PARENT, "x-b3-sampled": "1" },
    { direction: "outbound", method: "GET", path: "/", authority: "back", protocol: "http/1.1" },
  );
  t.is(multi.traceId, TRACE);
  const out2: HeaderBag = { "x-b3-traceid": TRACE, "x-b3-spanid": PARENT, "x-b3-sampled": "1" };
  multi.inject(out2);
  t.is(out2["x-b3-spanid"], multi.spanId);
  t.is(out2["x-b3-traceid"], TRACE);
  t.is(out2.b3, undefined);
  await flush();
});

test("sampling follows the caller's decision, and a new trace follows the ratio, changed live", async (t) => {
  const { t: tr, spans, flush } = tracer({ ...ON, samplingRatio: 0 });
  const start = (h: HeaderBag) =>
    tr.start(h, { direction: "inbound", method: "GET", path: "/", authority: "a", protocol: "http/1.1" });
  const unsampled = start({});
  t.false(unsampled.sampled);
  const out: HeaderBag = {};
  unsampled.inject(out);
  t.regex(String(out.traceparent), /^00-[\da-f]{32}-[\da-f]{16}-00$/, "still propagated, marked not sampled");
  unsampled.end({ status: 200 });
  const parentSampled = start({ traceparent: `00-${TRACE}-${PARENT}-01` });
  t.true(parentSampled.sampled, "the caller sampled it, so this hop does too");
  parentSampled.end({ status: 200 });

  tr.configure({ ...ON, samplingRatio: 1 });
  const parentDeclined = start({ traceparent: `00-${TRACE}-${PARENT}-00` });
  t.false(parentDeclined.sampled, "a caller that did not sample (the daemon's health probes) is followed");
  parentDeclined.end({ status: 200 });
  const now = start({});
  t.true(now.sampled);
  const w3c: HeaderBag = {};
  now.inject(w3c);
  t.is(now.traceparent(), w3c.traceparent as string, "the header alone, as inject() writes it");
  now.end({ status: 200 });

  tr.configure({ ...ON, samplingRatio: 0.5 });
  let sampled = 0;
  for (let i = 0; i < 400; i++) {
    const s = start({});
    if (s.sampled) sampled++;
    s.end({ status: 200 });
  }
  // Binomial(400, 0.5): 200 +- 10; outside 130..270 is a broken sampler, not bad luck.
  t.true(sampled > 130 && sampled < 270, `${sampled} of 400 sampled at ratio 0.5`);
  await flush();
  t.is((await spans()).length, 2 + sampled);
});

test("with tracing off, requests pass untouched and nothing is recorded", async (t) => {
  const { t: tr, spans, flush } = tracer(null);
  const span = tr.start(
    { traceparent: `00-${TRACE}-${PARENT}-01` },
    {
      direction: "inbound",
      method: "GET",
      path: "/",
      authority: "a",
      protocol: "http/1.1",
    },
  );
  const out: HeaderBag = { traceparent: `00-${TRACE}-${PARENT}-01` };
  span.inject(out);
  t.is(out.traceparent, `00-${TRACE}-${PARENT}-01`);
  span.end({ status: 200 });
  tr.configure({ ...ON, enabled: false });
  t.false(tr.enabled);
  await flush();
  t.is((await spans()).length, 0);
});

test("spans reach the control plane as an OTLP TraceService/Export call over its unix socket", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "weft-otlp-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, "cp.sock");
  const bodies: Buffer[] = [];
  const server = new grpc.Server();
  server.addService(
    {
      Export: rawMethod("/opentelemetry.proto.collector.trace.v1.TraceService/Export"),
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        bodies.push(call.request);
        cb(null, Buffer.alloc(0));
      },
    },
  );
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  t.teardown(() => server.forceShutdown());
  const tr = new MeshTracer({
    workload: "front-1",
    service: "front",
    nodeId: "n",
    exporterFor: (endpoint) => spanExporterFor(endpoint, socket),
  });
  tr.configure(ON);
  tr.start(
    {},
    { direction: "outbound", method: "GET", path: "/checkout", authority: "c", protocol: "http/1.1" },
  ).end({
    status: 200,
  });
  await tr.shutdown();
  t.is(bodies.length, 1);
  t.true(bodies[0]!.includes("GET /checkout"), "the span's name is in the OTLP request");
  t.true(bodies[0]!.includes("front"), "so is the service name");
});

test("an export to an unreachable control plane fails and counts the dropped spans", async (t) => {
  const e = new ControlPlaneSpanExporter("unix:///nonexistent/weft.sock", 500);
  const tr = new MeshTracer({ workload: "w", service: "", nodeId: "n", exporterFor: () => e });
  tr.configure(ON);
  tr.start({}, { direction: "inbound", method: "GET", path: "/", authority: "a", protocol: "http/1.1" }).end({
    status: 200,
  });
  await tr.shutdown();
  t.is(e.dropped, 1);
});

test("an otlpEndpoint with another scheme is refused with what to use", (t) => {
  t.throws(() => spanExporterFor("ftp://x:1", "/tmp/cp.sock"), { message: /http\(s\):\/\/HOST:4318/ });
});
