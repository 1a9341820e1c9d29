// OTLP/protobuf requests (opentelemetry/proto/collector/{trace,logs}/v1) decoded straight into
// domain spans and log lines, applying LIMITS while reading so a huge value is never fully copied.
import { ProtobufReader as Reader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from "./protobuf-reader";

type ProtobufReader = Reader;

import { fromResource, logFromParts, type RawLog, type RawSpan, spanFromParts } from "./otlp-model";
import {
  type Attributes,
  type AttrValue,
  LIMITS,
  type LogEntry,
  type SpanEvent,
  type SpanRecord,
} from "./types";

export interface DecodedSpans {
  spans: SpanRecord[];
  /** Spans refused (bad ids, no times); reported back as OTLP partial success. */
  rejected: number;
  /** Why, as "N spans had <problem>": each problem and how many spans had it. */
  problems: Map<string, number>;
}

/** Keeps a decoded span, or counts its problem. */
export function addSpan(out: DecodedSpans, span: SpanRecord | { problem: string }): void {
  if (!("problem" in span)) {
    out.spans.push(span);
    return;
  }
  out.rejected++;
  out.problems.set(span.problem, (out.problems.get(span.problem) ?? 0) + 1);
}

export function decodeTraceRequest(body: Buffer): DecodedSpans {
  const out: DecodedSpans = { spans: [], rejected: 0, problems: new Map() };
  const r = new Reader(body);
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WIRE_LEN) resourceSpans(r.sub(), out);
    else r.skip(wire);
  }
  return out;
}

export interface DecodedLogs {
  logs: LogEntry[];
}

export function decodeLogsRequest(body: Buffer, now: bigint): DecodedLogs {
  const out: DecodedLogs = { logs: [] };
  const r = new Reader(body);
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WIRE_LEN) resourceLogs(r.sub(), out, now);
    else r.skip(wire);
  }
  return out;
}

function resourceSpans(r: ProtobufReader, out: DecodedSpans): void {
  let resource: Attributes = {};
  const raw: RawSpan[] = [];
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WIRE_LEN) resource = attributesOf(r.sub(), 1);
    else if (field === 2 && wire === WIRE_LEN) scopeSpans(r.sub(), raw);
    else r.skip(wire);
  }
  const res = fromResource(resource);
  for (const s of raw) addSpan(out, spanFromParts(s, res));
}

function scopeSpans(r: ProtobufReader, raw: RawSpan[]): void {
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 2 && wire === WIRE_LEN) raw.push(span(r.sub()));
    else r.skip(wire);
  }
}

function span(r: ProtobufReader): RawSpan {
  const s: RawSpan = {
    traceId: "",
    spanId: "",
    parentSpanId: "",
    name: "",
    kind: 0,
    startNs: 0n,
    endNs: 0n,
    attributes: {},
    events: [],
    statusCode: 0,
    statusMessage: "",
  };
  let attrCount = 0;
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WIRE_LEN) s.traceId = r.bytes().toString("hex");
    else if (field === 2 && wire === WIRE_LEN) s.spanId = r.bytes().toString("hex");
    else if (field === 4 && wire === WIRE_LEN) s.parentSpanId = r.bytes().toString("hex");
    else if (field === 5 && wire === WIRE_LEN) s.name = r.string(LIMITS.maxStringChars);
    else if (field === 6 && wire === WIRE_VARINT) s.kind = r.varint32();
    else if (field === 7 && wire === WIRE_FIXED64) s.startNs = r.timestamp();
    else if (field === 8 && wire === WIRE_FIXED64) s.endNs = r.timestamp();
    else if (field === 9 && wire === WIRE_LEN) {
      // Repeated KeyValue: one per field occurrence; keep the first maxAttributes.
      const kv = keyValue(r.sub(), 1);
      if (kv && attrCount++ < LIMITS.maxAttributes) s.attributes[kv[0]] = kv[1];
    } else if (field === 11 && wire === WIRE_LEN) {
      const ev = event(r.sub());
      if (s.events.length < LIMITS.maxEvents) s.events.push(ev);
    } else if (field === 15 && wire === WIRE_LEN) status(r.sub(), s);
    else r.skip(wire);
  }
  return s;
}

function status(r: ProtobufReader, s: RawSpan): void {
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 2 && wire === WIRE_LEN) s.statusMessage = r.string(LIMITS.maxStringChars);
    else if (field === 3 && wire === WIRE_VARINT) s.statusCode = r.varint32();
    else r.skip(wire);
  }
}

function event(r: ProtobufReader): SpanEvent {
  let time = 0n;
  let name = "";
  const attributes: Attributes = {};
  let count = 0;
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WIRE_FIXED64) time = r.fixed64();
    else if (field === 2 && wire === WIRE_LEN) name = r.string(LIMITS.maxStringChars);
    else if (field === 3 && wire === WIRE_LEN) {
      const kv = keyValue(r.sub(), 1);
      if (kv && count++ < LIMITS.maxAttributes) attributes[kv[0]] = kv[1];
    } else r.skip(wire);
  }
  return { timeUnixNano: time.toString(), name, attributes };
}

/** A message whose field 1 is repeated KeyValue (Resource, KeyValueList). */
function attributesOf(r: ProtobufReader, depth: number): Attributes {
  const out: Attributes = {};
  let count = 0;
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WIRE_LEN) {
      const kv = keyValue(r.sub(), depth);
      if (kv && count++ < LIMITS.maxAttributes) out[kv[0]] = kv[1];
    } else r.skip(wire);
  }
  return out;
}

function keyValue(r: ProtobufReader, depth: number): [string, AttrValue] | undefined {
  let key = "";
  let value: AttrValue = null;
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WIRE_LEN) key = r.string(256);
    else if (field === 2 && wire === WIRE_LEN) value = anyValue(r.sub(), depth);
    else r.skip(wire);
  }
  return key === "" ? undefined : [key, value];
}

function anyValue(r: ProtobufReader, depth: number): AttrValue {
  let value: AttrValue = null;
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WIRE_LEN) value = r.string(LIMITS.maxStringChars);
    else if (field === 2 && wire === WIRE_VARINT) value = r.varint32() !== 0;
    else if (field === 3 && wire === WIRE_VARINT) {
      const v = r.varint64();
      value =
        v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(v)
          : v.toString();
    } else if (field === 4 && wire === WIRE_FIXED64) value = r.double();
    else if (field === 5 && wire === WIRE_LEN)
      value = depth >= LIMITS.maxDepth ? "[too deep]" : arrayValue(r.sub(), depth + 1);
    else if (field === 6 && wire === WIRE_LEN)
      value = depth >= LIMITS.maxDepth ? "[too deep]" : attributesOf(r.sub(), depth + 1);
    else if (field === 7 && wire === WIRE_LEN) {
      const b = r.bytes();
      // Kept as base64, which is 4/3 of the bytes: the string limit holds for its characters.
      value = b.length > (LIMITS.maxStringChars / 4) * 3 ? `[${b.length} bytes]` : b.toString("base64");
    } else r.skip(wire);
  }
  return value;
}

function arrayValue(r: ProtobufReader, depth: number): AttrValue[] {
  const out: AttrValue[] = [];
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WIRE_LEN) {
      const v = anyValue(r.sub(), depth);
      if (out.length < LIMITS.maxListEntries) out.push(v);
    } else r.skip(wire);
  }
  return out;
}

function resourceLogs(r: ProtobufReader, out: DecodedLogs, now: bigint): void {
  let resource: Attributes = {};
  const raw: RawLog[] = [];
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WIRE_LEN) resource = attributesOf(r.sub(), 1);
    else if (field === 2 && wire === WIRE_LEN) scopeLogs(r.sub(), raw);
    else r.skip(wire);
  }
  const res = fromResource(resource);
  for (const l of raw) out.logs.push(logFromParts(l, res, now));
}

function scopeLogs(r: ProtobufReader, raw: RawLog[]): void {
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 2 && wire === WIRE_LEN) raw.push(logRecord(r.sub()));
    else r.skip(wire);
  }
}

function logRecord(r: ProtobufReader): RawLog {
  const l: RawLog = {
    timeNs: 0n,
    observedNs: 0n,
    severityNumber: 0,
    severityText: "",
    body: null,
    attributes: {},
    traceId: "",
    spanId: "",
  };
  let count = 0;
  while (!r.atEnd()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WIRE_FIXED64) l.timeNs = r.timestamp();
    else if (field === 11 && wire === WIRE_FIXED64) l.observedNs = r.timestamp();
    else if (field === 2 && wire === WIRE_VARINT) l.severityNumber = r.varint32();
    else if (field === 3 && wire === WIRE_LEN) l.severityText = r.string(64);
    else if (field === 5 && wire === WIRE_LEN) l.body = anyValue(r.sub(), 1);
    else if (field === 6 && wire === WIRE_LEN) {
      const kv = keyValue(r.sub(), 1);
      if (kv && count++ < LIMITS.maxAttributes) l.attributes[kv[0]] = kv[1];
    } else if (field === 9 && wire === WIRE_LEN) l.traceId = r.bytes().toString("hex");
    else if (field === 10 && wire === WIRE_LEN) l.spanId = r.bytes().toString("hex");
    else r.skip(wire);
  }
  return l;
}
