// Trace context on the wire: W3C traceparent/tracestate first, else B3 (single `b3` header or the
// X-B3-* set). The OpenTelemetry propagators do the parsing; this module adapts them to Node's
// header objects and remembers which B3 form a request used, so the next hop gets the same form.
import {
  type Context,
  ROOT_CONTEXT,
  type SpanContext,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import { parseTraceParent, W3CTraceContextPropagator } from "@opentelemetry/core";
import { B3InjectEncoding, B3Propagator } from "@opentelemetry/propagator-b3";

/** Node's incoming (lower-case keys) and outgoing header objects alike. */
export type HeaderBag = Record<string, string | string[] | number | undefined>;

export type B3Form = "none" | "single" | "multi";

const getter: TextMapGetter<HeaderBag> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key.toLowerCase()];
    return typeof v === "number" ? String(v) : v;
  },
};

const setter: TextMapSetter<HeaderBag> = {
  set: (carrier, key, value) => {
    carrier[key.toLowerCase()] = value;
  },
};

const w3c = new W3CTraceContextPropagator();
const b3Single = new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER });
const b3Multi = new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });

export interface Extracted {
  /** A context holding the caller's span context, or ROOT_CONTEXT when the request carried none. */
  context: Context;
  parent?: SpanContext;
  b3: B3Form;
}

const NO_PARENT: Extracted = Object.freeze({ context: ROOT_CONTEXT, parent: undefined, b3: "none" });

/** The caller's trace context from a request's headers (W3C wins when both are present). */
export function extractTraceContext(headers: HeaderBag): Extracted {
  // The common case, a bare traceparent or nothing, without the propagators' context round trips.
  if (headers.b3 === undefined && headers["x-b3-traceid"] === undefined && headers.tracestate === undefined) {
    const tp = headers.traceparent;
    if (tp === undefined) return NO_PARENT;
    const v = Array.isArray(tp) ? tp[0] : tp;
    const parent = v ? parseTraceParent(String(v)) : null;
    if (parent === null) return NO_PARENT;
    parent.isRemote = true;
    return { context: trace.setSpanContext(ROOT_CONTEXT, parent), parent, b3: "none" };
  }
  const b3: B3Form =
    headers.b3 !== undefined ? "single" : headers["x-b3-traceid"] !== undefined ? "multi" : "none";
  let context = w3c.extract(ROOT_CONTEXT, headers, getter);
  if (!trace.getSpanContext(context) && b3 !== "none")
    context = b3Single.extract(ROOT_CONTEXT, headers, getter);
  const parent = trace.getSpanContext(context);
  return { context: parent ? context : ROOT_CONTEXT, parent, b3 };
}

/** The traceparent the W3C propagator writes for `span`, when it writes nothing else (no
 * tracestate); undefined otherwise. Made without building a context to hand the propagator. */
export function w3cTraceparent(span: SpanContext): string | undefined {
  if (span.traceState !== undefined) return undefined;
  return `00-${span.traceId}-${span.spanId}-0${Number(span.traceFlags || 0).toString(16)}`;
}

/** Writes `span` as the parent for the next hop: traceparent (+ tracestate), and B3 in the form the
 * request came with, replacing what the caller sent. */
export function injectTraceContext(headers: HeaderBag, span: SpanContext, b3: B3Form): void {
  const traceparent = b3 === "none" ? w3cTraceparent(span) : undefined;
  if (traceparent !== undefined) {
    headers.traceparent = traceparent;
    return;
  }
  const context = trace.setSpanContext(ROOT_CONTEXT, span);
  w3c.inject(context, headers, setter);
  if (b3 === "none") return;
  for (const h of ["b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"])
    delete headers[h];
  (b3 === "single" ? b3Single : b3Multi).inject(context, headers, setter);
}
