// The headers a traced request leaves the sidecar with: the caller's trace headers replaced by this
// span as the parent, everything else (and trace state the caller sent) carried on.
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import test from "ava";
import type { HeaderPairs } from "../http/headers";
import { requestContext } from "../http/route";
import { KeepingExporter } from "../testing/keeping-exporter";
import { AccessLog } from "./access-log";
import { RequestTelemetry } from "./request-telemetry";
import { MeshTracer } from "./tracing";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

function telemetry(): RequestTelemetry {
  const identity = { workload: "front-1", service: "front", nodeId: "front-1.abc" };
  const hooks = new RequestTelemetry(
    new MeshTracer({ ...identity, exporterFor: () => new InMemorySpanExporter() }),
    new AccessLog(identity),
  );
  hooks.configure({
    name: "default",
    version: 1,
    service: "",
    tracing: { enabled: true, samplingRatio: 1, otlpEndpoint: "", resourceAttributes: {} },
    logging: { level: "info", accessLog: false, fields: [], samplingRatio: 1, sinks: [] },
  });
  return hooks;
}

/** The headers sent on after onRequest, and this hop's span id. */
function forward(headers: HeaderPairs): { out: HeaderPairs; spanId: string } {
  const ctx = requestContext("outbound", "back", "r1", {
    method: "GET",
    path: "/",
    authority: "back",
    headers,
    protocol: "http1",
  });
  const hooks = telemetry();
  hooks.onRequest(ctx);
  hooks.onComplete({ ...ctx, status: 200 });
  return { out: ctx.request.headers, spanId: (ctx.telemetry as { spanId: string }).spanId };
}

test("a request without trace headers leaves with one traceparent naming this hop's span", (t) => {
  const { out, spanId } = forward([["Accept", "*/*"]]);
  const tp = out.filter(([k]) => k === "traceparent");
  t.is(tp.length, 1);
  t.regex(tp[0]?.[1] ?? "", new RegExp(`^00-[0-9a-f]{32}-${spanId}-01$`));
  t.deepEqual(out[0], ["Accept", "*/*"]);
});

test("the caller's traceparent, in any case, is replaced: same trace, this hop as the parent", (t) => {
  const { out, spanId } = forward([
    ["Traceparent", `00-${TRACE}-${PARENT}-01`],
    ["Accept", "*/*"],
  ]);
  t.deepEqual(out, [
    ["Accept", "*/*"],
    ["traceparent", `00-${TRACE}-${spanId}-01`],
  ]);
});

test("trace state the caller sent goes on with the new traceparent", (t) => {
  const { out, spanId } = forward([
    ["traceparent", `00-${TRACE}-${PARENT}-01`],
    ["tracestate", "vendor=x"],
  ]);
  const sent = new Map(out.map(([k, v]) => [k.toLowerCase(), v]));
  t.is(sent.get("traceparent"), `00-${TRACE}-${spanId}-01`);
  t.is(sent.get("tracestate"), "vendor=x");
  t.is(out.length, 2);
});

test("a lone B3 sampling flag next to a traceparent goes on too", (t) => {
  const { out, spanId } = forward([
    ["traceparent", `00-${TRACE}-${PARENT}-01`],
    ["X-B3-Sampled", "1"],
  ]);
  const sent = new Map(out.map(([k, v]) => [k.toLowerCase(), v]));
  t.is(sent.get("traceparent"), `00-${TRACE}-${spanId}-01`);
  t.is(sent.get("x-b3-sampled"), "1");
  t.is(out.length, 2);
});

test("an h2 request the proxy found to be gRPC is named grpc on its span, others h2", async (t) => {
  const protocolOf = async (grpc: boolean | undefined) => {
    const ctx = requestContext("outbound", "back", "r1", {
      method: "POST",
      path: "/pkg.Svc/Call",
      authority: "back",
      headers: [["content-type", grpc ? "application/grpc" : "application/json"]],
      protocol: "h2",
      grpc,
    });
    const exporter = new KeepingExporter();
    const tracer = new MeshTracer({
      workload: "front-1",
      service: "front",
      nodeId: "n",
      exporterFor: () => exporter,
    });
    const hooks = new RequestTelemetry(
      tracer,
      new AccessLog({ workload: "front-1", service: "front", nodeId: "n" }),
    );
    hooks.configure(undefined);
    hooks.onRequest(ctx);
    hooks.onComplete({ ...ctx, status: 200 });
    await tracer.shutdown();
    const [span] = exporter.getFinishedSpans();
    return span?.attributes["network.protocol.name"];
  };
  t.is(await protocolOf(true), "grpc");
  t.is(await protocolOf(false), "h2");
  t.is(await protocolOf(undefined), "h2");
});
