// OTLP/JSON requests (the protobuf JSON mapping with hex ids, as OTLP/HTTP defines it) decoded into
// domain spans and log lines. Unknown fields are ignored; a field of the wrong type is a 400.
import { TelemetryError } from "./errors";
import { fromResource, logFromParts, type RawLog, type RawSpan, spanFromParts } from "./otlp-model";
import { addSpan, type DecodedLogs, type DecodedSpans } from "./otlp-protobuf";
import {
  AFTER_LATEST_TIME,
  type Attributes,
  type AttrValue,
  bound,
  LATEST_TIME_NS,
  LIMITS,
  type SpanEvent,
} from "./types";

type Json = Record<string, unknown>;

function bad(path: string, what: string): never {
  throw new TelemetryError("BAD_OTLP", `${path} ${what}`);
}

/** Reads `camelCase` or `snake_case` (the protobuf JSON mapping accepts both). */
function field(o: Json, camel: string): unknown {
  if (camel in o) return o[camel];
  return o[camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

function obj(v: unknown, path: string): Json {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) bad(path, "must be an object");
  return v as Json;
}

function arr(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) bad(path, "must be an array");
  return v;
}

function str(v: unknown, path: string, max: number = LIMITS.maxStringChars): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") bad(path, "must be a string");
  return bound(v, max);
}

function u64(v: unknown, path: string): bigint {
  if (v === undefined || v === null || v === "") return 0n;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^\d{1,20}$/.test(v)) return BigInt(v);
  bad(path, "must be an unsigned integer (a number or a decimal string)");
}

/** A time in ns since 1970, within what the stores keep. */
function nanos(v: unknown, path: string): bigint {
  const n = u64(v, path);
  if (n > LATEST_TIME_NS) bad(path, AFTER_LATEST_TIME);
  return n;
}

function int(v: unknown, path: string, names: string[] = []): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && names.includes(v)) return names.indexOf(v);
  bad(
    path,
    names.length === 0 ? "must be an integer" : `must be an integer or an enum name (${names[1]}, ...)`,
  );
}

/**
 * An id as lowercase hex. Some senders use base64 (the plain protobuf JSON mapping); OTLP/JSON says
 * hex. Both are accepted; anything else is kept as it is, for the span's refusal to name.
 */
function id(v: unknown, path: string, bytes: number): string {
  const s = str(v, path, 64);
  if (s === "" || /^[0-9a-fA-F]+$/.test(s)) return s.toLowerCase();
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(s) ? Buffer.from(s, "base64") : undefined;
  return decoded?.length === bytes ? decoded.toString("hex") : s;
}

function anyValue(v: unknown, path: string, depth: number): AttrValue {
  const o = obj(v, path);
  if ("stringValue" in o || "string_value" in o) return str(field(o, "stringValue"), path);
  if ("boolValue" in o || "bool_value" in o) return field(o, "boolValue") === true;
  if ("intValue" in o || "int_value" in o) {
    const n = field(o, "intValue");
    if (typeof n === "number") return n;
    if (typeof n === "string" && /^-?\d+$/.test(n)) return Number.isSafeInteger(Number(n)) ? Number(n) : n;
    bad(`${path}.intValue`, "must be an integer");
  }
  if ("doubleValue" in o || "double_value" in o) {
    const n = field(o, "doubleValue");
    return typeof n === "number" ? n : Number(n);
  }
  if ("arrayValue" in o || "array_value" in o) {
    if (depth >= LIMITS.maxDepth) return "[too deep]";
    const values = arr(obj(field(o, "arrayValue"), path).values, `${path}.arrayValue.values`);
    return values
      .slice(0, LIMITS.maxListEntries)
      .map((x, i) => anyValue(x, `${path}.arrayValue.values[${i}]`, depth + 1));
  }
  if ("kvlistValue" in o || "kvlist_value" in o) {
    if (depth >= LIMITS.maxDepth) return "[too deep]";
    return attributes(obj(field(o, "kvlistValue"), path).values, `${path}.kvlistValue.values`, depth + 1);
  }
  if ("bytesValue" in o || "bytes_value" in o) return str(field(o, "bytesValue"), path);
  return null;
}

function attributes(v: unknown, path: string, depth = 1): Attributes {
  const out: Attributes = {};
  const list = arr(v, path);
  for (let i = 0; i < list.length && i < LIMITS.maxAttributes; i++) {
    const kv = obj(list[i], `${path}[${i}]`);
    const key = str(kv.key, `${path}[${i}].key`, 256);
    if (key !== "") out[key] = anyValue(kv.value, `${path}[${i}].value`, depth);
  }
  return out;
}

const KINDS = [
  "SPAN_KIND_UNSPECIFIED",
  "SPAN_KIND_INTERNAL",
  "SPAN_KIND_SERVER",
  "SPAN_KIND_CLIENT",
  "SPAN_KIND_PRODUCER",
  "SPAN_KIND_CONSUMER",
];
const STATUS = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
/** SeverityNumber's enum names, by number: SEVERITY_NUMBER_UNSPECIFIED, _TRACE, _TRACE2 ... _FATAL4. */
const SEVERITIES = [
  "SEVERITY_NUMBER_UNSPECIFIED",
  ...["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].flatMap((name) =>
    ["", "2", "3", "4"].map((n) => `SEVERITY_NUMBER_${name}${n}`),
  ),
];

function span(v: unknown, path: string): RawSpan {
  const o = obj(v, path);
  const status = obj(o.status, `${path}.status`);
  const events: SpanEvent[] = arr(o.events, `${path}.events`)
    .slice(0, LIMITS.maxEvents)
    .map((e, i) => {
      const eo = obj(e, `${path}.events[${i}]`);
      return {
        timeUnixNano: u64(field(eo, "timeUnixNano"), `${path}.events[${i}].timeUnixNano`).toString(),
        name: str(eo.name, `${path}.events[${i}].name`),
        attributes: attributes(eo.attributes, `${path}.events[${i}].attributes`),
      };
    });
  return {
    traceId: id(field(o, "traceId"), `${path}.traceId`, 16),
    spanId: id(field(o, "spanId"), `${path}.spanId`, 8),
    parentSpanId: id(field(o, "parentSpanId"), `${path}.parentSpanId`, 8),
    name: str(o.name, `${path}.name`),
    kind: int(o.kind, `${path}.kind`, KINDS),
    startNs: nanos(field(o, "startTimeUnixNano"), `${path}.startTimeUnixNano`),
    endNs: nanos(field(o, "endTimeUnixNano"), `${path}.endTimeUnixNano`),
    attributes: attributes(o.attributes, `${path}.attributes`),
    events,
    statusCode: int(status.code, `${path}.status.code`, STATUS),
    statusMessage: str(status.message, `${path}.status.message`),
  };
}

function parse(text: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    bad("the body", `is not valid JSON: ${(err as Error).message}`);
  }
  return obj(parsed, "the body");
}

export function decodeTraceJson(text: string): DecodedSpans {
  const out: DecodedSpans = { spans: [], rejected: 0, problems: new Map() };
  const rs = arr(field(parse(text), "resourceSpans"), "resourceSpans");
  rs.forEach((r, i) => {
    const ro = obj(r, `resourceSpans[${i}]`);
    const resource = fromResource(
      attributes(obj(ro.resource, "resource").attributes, `resourceSpans[${i}].resource.attributes`),
    );
    arr(field(ro, "scopeSpans"), `resourceSpans[${i}].scopeSpans`).forEach((ss, j) => {
      const path = `resourceSpans[${i}].scopeSpans[${j}].spans`;
      arr(obj(ss, path).spans, path).forEach((s, k) => {
        addSpan(out, spanFromParts(span(s, `${path}[${k}]`), resource));
      });
    });
  });
  return out;
}

export function decodeLogsJson(text: string, now: bigint): DecodedLogs {
  const out: DecodedLogs = { logs: [] };
  const rl = arr(field(parse(text), "resourceLogs"), "resourceLogs");
  rl.forEach((r, i) => {
    const ro = obj(r, `resourceLogs[${i}]`);
    const resource = fromResource(
      attributes(obj(ro.resource, "resource").attributes, `resourceLogs[${i}].resource.attributes`),
    );
    arr(field(ro, "scopeLogs"), `resourceLogs[${i}].scopeLogs`).forEach((sl, j) => {
      const path = `resourceLogs[${i}].scopeLogs[${j}].logRecords`;
      arr(field(obj(sl, path), "logRecords"), path).forEach((l, k) => {
        const p = `${path}[${k}]`;
        const lo = obj(l, p);
        const raw: RawLog = {
          timeNs: nanos(field(lo, "timeUnixNano"), `${p}.timeUnixNano`),
          observedNs: nanos(field(lo, "observedTimeUnixNano"), `${p}.observedTimeUnixNano`),
          severityNumber: int(field(lo, "severityNumber"), `${p}.severityNumber`, SEVERITIES),
          severityText: str(field(lo, "severityText"), `${p}.severityText`, 64),
          body: lo.body === undefined ? null : anyValue(lo.body, `${p}.body`, 1),
          attributes: attributes(lo.attributes, `${p}.attributes`),
          traceId: id(field(lo, "traceId"), `${p}.traceId`, 16),
          spanId: id(field(lo, "spanId"), `${p}.spanId`, 8),
        };
        out.logs.push(logFromParts(raw, resource, now));
      });
    });
  });
  return out;
}
