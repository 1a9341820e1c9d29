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

/** A hex digit's value by character code, -1 for anything else (upper case included, as the W3C
 * format wants lower case). */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let c = 0; c < 16; c++) HEX_VALUE["0123456789abcdef".charCodeAt(c)] = c;

/**
 * parseTraceParent of @opentelemetry/core, with the common form read without its regular
 * expression (a match array and five strings per request): version 00, 55 characters, lower-case
 * hex, ids not all zeros. Anything else goes to parseTraceParent itself, so the answers are its.
 */
function readTraceParent(v: string): SpanContext | null {
  if (v.length !== 55 || v.charCodeAt(0) !== 48 || v.charCodeAt(1) !== 48) return parseTraceParent(v);
  if (v.charCodeAt(2) !== 45 || v.charCodeAt(35) !== 45 || v.charCodeAt(52) !== 45)
    return parseTraceParent(v);
  let traceBits = 0;
  let spanBits = 0;
  for (let i = 3; i < 55; i++) {
    if (i === 35 || i === 52) continue;
    const d = HEX_VALUE[v.charCodeAt(i)] ?? -1;
    if (d < 0) return parseTraceParent(v);
    if (i < 35) traceBits |= d;
    else if (i < 52) spanBits |= d;
  }
  if (traceBits === 0 || spanBits === 0) return parseTraceParent(v);
  const flags = ((HEX_VALUE[v.charCodeAt(53)] as number) << 4) | (HEX_VALUE[v.charCodeAt(54)] as number);
  return { traceId: v.slice(3, 35), spanId: v.slice(36, 52), traceFlags: flags };
}

/** The caller's trace context from a request's headers (W3C wins when both are present). */
export function extractTraceContext(headers: HeaderBag): Extracted {
  // The common case, a bare traceparent or nothing, without the propagators' context round trips.
  if (headers.b3 === undefined && headers["x-b3-traceid"] === undefined && headers.tracestate === undefined) {
    const tp = headers.traceparent;
    if (tp === undefined) return NO_PARENT;
    const v = Array.isArray(tp) ? tp[0] : tp;
    const parent = v ? readTraceParent(String(v)) : null;
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
  // As the propagator writes the flags ("0" and their hex), without formatting the common two.
  const flags = Number(span.traceFlags || 0);
  const tail = flags === 1 ? "-01" : flags === 0 ? "-00" : `-0${flags.toString(16)}`;
  return `00-${span.traceId}-${span.spanId}${tail}`;
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
