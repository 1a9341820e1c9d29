// opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest written straight from the SDK's
// ReadableSpans, byte for byte what @opentelemetry/otlp-transformer's ProtobufTraceSerializer
// writes (span-codec.test.ts holds it to that). Its serializer walks every batch twice (a size
// estimate, then the write), turns each id into a fresh Uint8Array and re-encodes the resource,
// the same on every span of a sidecar, on every batch. This one writes once into a growing
// buffer, ids straight from hex, and keeps each resource's and scope's bytes.
import type { Attributes, AttributeValue } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Writer } from "./protobuf-writer";

const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
const INT64_MIN = -(2 ** 63);
const INT64_MAX = 2 ** 63;

type Resource = ReadableSpan["resource"];
type Scope = ReadableSpan["instrumentationScope"];

function attributes(w: Writer, attrs: Attributes, tag: number): void {
  for (const key in attrs) {
    if (!Object.hasOwn(attrs, key)) continue;
    const value = attrs[key];
    w.varint(tag);
    if (typeof value === "string" && w.shortAsciiKeyValue(key, value)) continue;
    const kv = w.open(1);
    keyValue(w, key, value);
    w.close(kv, 1);
  }
}

function keyValue(w: Writer, key: string, value: unknown): void {
  w.varint(0x0a);
  w.string(key);
  w.varint(0x12);
  const v = w.open(1);
  anyValue(w, value);
  w.close(v, 1);
}

function anyValue(w: Writer, value: unknown): void {
  if (typeof value === "string") {
    w.varint(0x0a);
    w.string(value);
  } else if (typeof value === "boolean") {
    w.varint(0x10);
    w.varint(value ? 1 : 0);
  } else if (typeof value === "number") {
    if (Number.isInteger(value) && value >= INT64_MIN && value < INT64_MAX) {
      w.varint(0x18);
      w.int64(value);
    } else {
      w.varint(0x21);
      w.ensure(8);
      w.buf.writeDoubleLE(value, w.pos);
      w.pos += 8;
    }
  } else if (value instanceof Uint8Array) {
    w.varint(0x3a);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.varint(0x2a);
    const arr = w.open(1);
    for (const item of value as AttributeValue[]) {
      w.varint(0x0a);
      const at = w.open(1);
      anyValue(w, item);
      w.close(at, 1);
    }
    w.close(arr, 1);
  } else if (typeof value === "object" && value !== null) {
    w.varint(0x32);
    const list = w.open(1);
    const obj = value as Record<string, unknown>;
    for (const k in obj) {
      if (!Object.hasOwn(obj, k)) continue;
      w.varint(0x0a);
      const kv = w.open(1);
      keyValue(w, k, obj[k]);
      w.close(kv, 1);
    }
    w.close(list, 1);
  }
}

function span(w: Writer, s: ReadableSpan): void {
  const ctx = s.spanContext();
  const parent = s.parentSpanContext;
  w.varint(0x0a);
  w.hex(ctx.traceId);
  w.varint(0x12);
  w.hex(ctx.spanId);
  const state = ctx.traceState?.serialize();
  if (state) {
    w.varint(0x1a);
    w.string(state);
  }
  if (parent?.spanId) {
    w.varint(0x22);
    w.hex(parent.spanId);
  }
  w.varint(0x2a);
  w.string(s.name);
  const kind = s.kind == null ? 0 : s.kind + 1;
  if (kind !== 0) {
    w.varint(0x30);
    w.varint(kind);
  }
  w.varint(0x39);
  w.time(s.startTime);
  w.varint(0x41);
  w.time(s.endTime);
  if (s.attributes) attributes(w, s.attributes, 0x4a);
  w.varint(0x50);
  w.varint(s.droppedAttributesCount);
  for (const e of s.events) {
    w.varint(0x5a);
    const at = w.open(1);
    w.varint(0x09);
    w.time(e.time);
    w.varint(0x12);
    w.string(e.name);
    if (e.attributes) attributes(w, e.attributes, 0x1a);
    w.varint(0x20);
    w.varint(e.droppedAttributesCount || 0);
    w.close(at, 1);
  }
  w.varint(0x60);
  w.varint(s.droppedEventsCount);
  for (const l of s.links) {
    w.varint(0x6a);
    const at = w.open(1);
    w.varint(0x0a);
    w.hex(l.context.traceId);
    w.varint(0x12);
    w.hex(l.context.spanId);
    const linkState = l.context.traceState?.serialize();
    if (linkState) {
      w.varint(0x1a);
      w.string(linkState);
    }
    if (l.attributes) attributes(w, l.attributes, 0x22);
    w.varint(0x28);
    w.varint(l.droppedAttributesCount || 0);
    w.varint(0x35);
    w.fixed32(flags(l.context.traceFlags, l.context.isRemote));
    w.close(at, 1);
  }
  w.varint(0x70);
  w.varint(s.droppedLinksCount);
  w.varint(0x7a);
  const st = w.open(1);
  if (s.status.message) {
    w.varint(0x12);
    w.string(s.status.message);
  }
  w.varint(0x18);
  w.varint(s.status.code);
  w.close(st, 1);
  w.varint(0x85); // field 16, fixed32 (varint 133: bytes 0x85 0x01)
  w.fixed32(flags(ctx.traceFlags, parent?.isRemote));
}

function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

/** `Resource { attributes = 1, dropped_attributes_count = 2 }` with its tag, made once per resource. */
const resourceBytes = new WeakMap<Resource, Buffer>();
function resource(r: Resource): Buffer {
  let b = resourceBytes.get(r);
  if (!b) {
    const w = new Writer(256);
    w.varint(0x0a);
    const at = w.open(2);
    if (r.attributes) attributes(w, r.attributes, 0x0a);
    w.varint(0x10);
    w.varint(0);
    w.close(at, 2);
    b = Buffer.from(w.buf.subarray(0, w.pos));
    resourceBytes.set(r, b);
  }
  return b;
}

/** `InstrumentationScope` with its tag (ScopeSpans field 1), made once per scope. */
const scopeBytes = new WeakMap<Scope, Buffer>();
function scope(s: Scope): Buffer {
  let b = scopeBytes.get(s);
  if (!b) {
    const w = new Writer(128);
    w.varint(0x0a);
    const at = w.open(1);
    w.varint(0x0a);
    w.string(s.name);
    if (s.version) {
      w.varint(0x12);
      w.string(s.version);
    }
    const scoped = s as Scope & { attributes?: Attributes; droppedAttributesCount?: number };
    if (scoped.attributes) attributes(w, scoped.attributes, 0x1a);
    if (scoped.droppedAttributesCount) {
      w.varint(0x20);
      w.varint(scoped.droppedAttributesCount);
    }
    w.close(at, 1);
    b = Buffer.from(w.buf.subarray(0, w.pos));
    scopeBytes.set(s, b);
  }
  return b;
}

function raw(w: Writer, b: Buffer): void {
  w.ensure(b.length);
  b.copy(w.buf, w.pos);
  w.pos += b.length;
}

/** Appends one span as ScopeSpans' `spans` field (tag, length, Span): what appendSpan batches hold. */
export function appendSpan(w: Writer, s: ReadableSpan): void {
  w.varint(0x12);
  const at = w.open(2);
  span(w, s);
  w.close(at, 2);
}

/**
 * The ExportTraceServiceRequest for spans of one resource and scope already written by appendSpan:
 * the same bytes encodeTraceRequest writes for those spans, in one buffer of the exact size (a batch
 * is copied once, not once per enclosing message).
 */
export function wrapSpans(res: Resource, sc: Scope, spans: Buffer): Buffer {
  const resourceMsg = resource(res);
  const scopeMsg = scope(sc);
  const scopeTail = schemaUrl(sc.schemaUrl);
  const resourceTail = schemaUrl(res.schemaUrl);
  const scopeSpans = scopeMsg.length + spans.length + scopeTail.length;
  const resourceSpans = resourceMsg.length + 1 + varintBytes(scopeSpans) + scopeSpans + resourceTail.length;
  const w = new Writer(1 + varintBytes(resourceSpans) + resourceSpans);
  w.varint(0x0a); // ExportTraceServiceRequest.resource_spans
  w.varint(resourceSpans);
  raw(w, resourceMsg);
  w.varint(0x12); // ResourceSpans.scope_spans
  w.varint(scopeSpans);
  raw(w, scopeMsg);
  raw(w, spans);
  raw(w, scopeTail);
  raw(w, resourceTail);
  return w.buf.subarray(0, w.pos);
}

/** `schema_url` (field 3 of both ScopeSpans and ResourceSpans), or nothing. */
function schemaUrl(url: string | undefined): Buffer {
  if (!url) return EMPTY;
  const w = new Writer(url.length * 3 + 8);
  w.varint(0x1a);
  w.string(url);
  return w.buf.subarray(0, w.pos);
}

const EMPTY = Buffer.alloc(0);

/** How many bytes the varint of a length takes. */
function varintBytes(n: number): number {
  let bytes = 1;
  for (let x = n >>> 7; x > 0; x >>>= 7) bytes++;
  return bytes;
}

/** The ExportTraceServiceRequest for `spans`, grouped by resource and scope like the SDK does. */
export function encodeTraceRequest(spans: readonly ReadableSpan[]): Buffer {
  const groups = new Map<Resource, Map<Scope, ReadableSpan[]>>();
  for (const s of spans) {
    let scopes = groups.get(s.resource);
    if (!scopes) {
      scopes = new Map();
      groups.set(s.resource, scopes);
    }
    const list = scopes.get(s.instrumentationScope);
    if (list) list.push(s);
    else scopes.set(s.instrumentationScope, [s]);
  }
  const w = new Writer(512 + spans.length * 384);
  for (const [res, scopes] of groups) {
    w.varint(0x0a);
    const rs = w.open(3);
    raw(w, resource(res));
    for (const [sc, list] of scopes) {
      w.varint(0x12);
      const ss = w.open(3);
      raw(w, scope(sc));
      for (const s of list) appendSpan(w, s);
      if (sc.schemaUrl) {
        w.varint(0x1a);
        w.string(sc.schemaUrl);
      }
      w.close(ss, 3);
    }
    if (res.schemaUrl) {
      w.varint(0x1a);
      w.string(res.schemaUrl);
    }
    w.close(rs, 3);
  }
  return w.buf.subarray(0, w.pos);
}
