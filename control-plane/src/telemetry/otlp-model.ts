// What OTLP/protobuf and OTLP/JSON decoding have in common: spans and log records as read off the
// wire, and the one place that validates them and turns them into domain records.
import {
  type Attributes,
  type AttrValue,
  bound,
  LIMITS,
  type LogEntry,
  normalizeLevel,
  peerOf,
  type SpanEvent,
  type SpanRecord,
} from "./types";

export interface RawSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Attributes;
  events: SpanEvent[];
  statusCode: number;
  statusMessage: string;
}

export interface RawLog {
  timeNs: bigint;
  observedNs: bigint;
  severityNumber: number;
  severityText: string;
  body: AttrValue;
  attributes: Attributes;
  traceId: string;
  spanId: string;
}

export interface ResourceInfo {
  service: string;
  attributes: Attributes;
}

export function fromResource(resource: Attributes): ResourceInfo {
  const { "service.name": name, ...rest } = resource;
  return {
    service: typeof name === "string" && name !== "" ? bound(name, 256) : "unknown_service",
    attributes: rest,
  };
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

/** What is wrong with a span's trace or span id ("" when nothing), as "N spans had ...". */
function idProblem(id: string, what: "trace" | "span", hexDigits: number): string {
  if (id === "") return `no ${what} id`;
  if (!/^[0-9a-f]+$/.test(id))
    return `a ${what} id that is neither ${hexDigits} hex digits nor base64 of ${hexDigits / 2} bytes`;
  if (id.length !== hexDigits)
    return `a ${what} id of ${id.length} hex digits, not ${hexDigits} (${hexDigits / 2} bytes)`;
  if (/^0+$/.test(id)) return `an all-zero ${what} id`;
  return "";
}

/**
 * A stored span, or why it is refused (as "N spans had ..."; the span is counted as rejected): ids
 * missing, malformed or all-zero, or no start or end time (it would be stored at 1970, under every
 * other span, and aged out at once).
 */
export function spanFromParts(s: RawSpan, resource: ResourceInfo): SpanRecord | { problem: string } {
  const problem =
    idProblem(s.traceId, "trace", 32) ||
    idProblem(s.spanId, "span", 16) ||
    (s.startNs === 0n || s.endNs === 0n ? "no start or end time (startTimeUnixNano, endTimeUnixNano)" : "");
  if (problem !== "") return { problem };
  const parent = SPAN_ID.test(s.parentSpanId) && !/^0+$/.test(s.parentSpanId) ? s.parentSpanId : "";
  const duration = s.endNs > s.startNs ? s.endNs - s.startNs : 0n;
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: parent,
    name: bound(s.name, 1024),
    kind: s.kind >= 0 && s.kind <= 5 ? s.kind : 0,
    service: resource.service,
    startNs: s.startNs,
    // A span "lasting" beyond 2^53 ns (104 days) is a broken clock; clamp rather than lose precision.
    durationNs: duration > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(duration),
    statusCode: s.statusCode >= 0 && s.statusCode <= 2 ? s.statusCode : 0,
    statusMessage: s.statusMessage,
    attributes: s.attributes,
    resource: resource.attributes,
    events: s.events,
    peerService: s.kind === 3 ? peerOf(s.attributes) : "",
  };
}

/**
 * A log record's level. SeverityNumber is OTLP's normalized severity, so it wins when set (1-4
 * trace and 5-8 debug are stored as debug, 9-12 info, 13-16 warn, 17-20 error and 21-24 fatal as
 * error); the free-form text ("SEVERE", "E", a winston level) counts only without it.
 */
function levelOf(severityNumber: number, severityText: string): LogEntry["level"] {
  if (severityNumber >= 1 && severityNumber <= 24) {
    if (severityNumber >= 17) return "error";
    if (severityNumber >= 13) return "warn";
    if (severityNumber >= 9) return "info";
    return "debug";
  }
  return severityText === "" ? "info" : normalizeLevel(severityText);
}

function text(v: AttrValue): string {
  if (v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** OTLP log records become log lines of source "otlp"; container and instance come from resource attributes. */
export function logFromParts(l: RawLog, resource: ResourceInfo, now: bigint): LogEntry {
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(l.attributes)) attributes[k] = bound(text(v));
  const r = resource.attributes;
  return {
    timeNs: l.timeNs > 0n ? l.timeNs : l.observedNs > 0n ? l.observedNs : now,
    service: resource.service,
    container: bound(text(r["container.name"] ?? r["container.id"] ?? null), 256),
    instance: bound(text(r["host.name"] ?? r["k8s.pod.name"] ?? r["service.instance.id"] ?? null), 256),
    level: levelOf(l.severityNumber, l.severityText),
    source: "otlp",
    message: bound(text(l.body), LIMITS.maxMessageChars),
    traceId: TRACE_ID.test(l.traceId) ? l.traceId : "",
    spanId: SPAN_ID.test(l.spanId) ? l.spanId : "",
    attributes,
  };
}
