import { ROOT_CONTEXT, type SpanContext, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import test from "ava";
import { extractTraceContext, type HeaderBag, injectTraceContext } from "./trace-context";

const w3c = new W3CTraceContextPropagator();
const getter = {
  keys: (c: HeaderBag) => Object.keys(c),
  get: (c: HeaderBag, k: string) => {
    const v = c[k];
    return typeof v === "number" ? String(v) : v;
  },
};
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

test("a bare traceparent is read exactly as the W3C propagator reads it, invalid ones included", (t) => {
  const cases: HeaderBag[] = [
    {},
    { traceparent: `00-${TRACE}-${SPAN}-01` },
    { traceparent: `00-${TRACE}-${SPAN}-00` },
    { traceparent: [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${"1".repeat(16)}-01`] },
    { traceparent: `ff-${TRACE}-${SPAN}-01` },
    { traceparent: `00-${"0".repeat(32)}-${SPAN}-01` },
    { traceparent: `00-${TRACE}-${"0".repeat(16)}-01` },
    { traceparent: `00-${TRACE.toUpperCase()}-${SPAN}-01` },
    { traceparent: `00-${TRACE}-${SPAN}-01-extra` },
    { traceparent: `01-${TRACE}-${SPAN}-01-extra` },
    { traceparent: "" },
    { traceparent: "garbage" },
    { traceparent: `00-${TRACE}-${SPAN}-ff` },
    { traceparent: `00-${TRACE}-${SPAN}-0a` },
    { traceparent: `00-${TRACE}-${SPAN}-0g` },
    { traceparent: ` 00-${TRACE}-${SPAN}-01` },
    { traceparent: `00-${TRACE}-${SPAN}-01 ` },
    { traceparent: `00-${TRACE.slice(0, 31)}x-${SPAN}-01` },
    { traceparent: `00-${TRACE}_${SPAN}-01` },
    { traceparent: `00-${"0".repeat(31)}1-${"0".repeat(15)}1-01` },
  ];
  for (const headers of cases) {
    const expected = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, headers, getter));
    const got = extractTraceContext(headers);
    t.deepEqual(got.parent, expected, JSON.stringify(headers));
    t.deepEqual(trace.getSpanContext(got.context), expected);
    t.is(got.b3, "none");
  }
});

test("the next hop's traceparent is what the W3C propagator writes", (t) => {
  for (const traceFlags of [0, 1]) {
    const span: SpanContext = { traceId: TRACE, spanId: SPAN, traceFlags };
    const ours: HeaderBag = {};
    injectTraceContext(ours, span, "none");
    const theirs: HeaderBag = {};
    w3c.inject(trace.setSpanContext(ROOT_CONTEXT, span), theirs, {
      set: (c, k, v) => {
        c[k] = v;
      },
    });
    t.deepEqual(ours, theirs);
  }
});
