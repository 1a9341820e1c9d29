// The telemetry domain: spans and log lines as the stores keep them, independent of OTLP and of the
// LogSink wire types (otlp-*.ts and log-sink-wire.ts translate), plus the bounds applied on ingest.

/** An attribute value after bounding: strings cut, arrays and maps capped, nesting limited. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

/** OTLP SpanKind numbers, and the names the REST API uses for them. */
export const SPAN_KINDS = ["unspecified", "internal", "server", "client", "producer", "consumer"] as const;
export type SpanKindName = (typeof SPAN_KINDS)[number];
export const KIND_SERVER = 2;
export const KIND_CLIENT = 3;

/** OTLP StatusCode numbers: 0 unset, 1 ok, 2 error. */
export const STATUS_NAMES = ["unset", "ok", "error"] as const;
export const STATUS_ERROR = 2;

export interface SpanEvent {
  timeUnixNano: string;
  name: string;
  attributes: Attributes;
}

export interface SpanRecord {
  /** Lowercase hex, 32 characters. */
  traceId: string;
  /** Lowercase hex, 16 characters. */
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** 0..5, see SPAN_KINDS. */
  kind: number;
  /** The resource's service.name ("unknown_service" when missing, as the SDKs do). */
  service: string;
  startNs: bigint;
  durationNs: number;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
  attributes: Attributes;
  /** Resource attributes other than service.name. */
  resource: Attributes;
  events: SpanEvent[];
  /** Whom a client span calls (peer.service, else server.address / net.peer.name); "" if unknown. */
  peerService: string;
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogEntry {
  timeNs: bigint;
  service: string;
  container: string;
  instance: string;
  level: LogLevel;
  /** "access" | "stdout" | "stderr" | "app" | "otlp". */
  source: string;
  message: string;
  traceId: string;
  spanId: string;
  attributes: Record<string, string>;
}

/** Limits applied to everything that arrives, so one bad sender cannot use unbounded memory or disk. */
/**
 * The latest time the span and log stores keep: SQLite's integers are signed 64-bit, so times in ns
 * since 1970 end at 2262-04-11T23:47:16Z. A later one (a uint64 the OTLP wire allows) is refused as
 * bad input, never a store failure a sender would retry forever.
 */
export const LATEST_TIME_NS = 2n ** 63n - 1n;
export const AFTER_LATEST_TIME =
  "is after 2262-04-11T23:47:16Z, the latest time stored (ns since 1970 in 63 bits)";

export const LIMITS = {
  /** Longest string attribute value, span name or log message kept, in characters. */
  maxStringChars: 4096,
  /** Longest log message kept, in characters. */
  maxMessageChars: 16_384,
  /** Attributes kept per span, resource, event or log line. */
  maxAttributes: 128,
  /** Events kept per span. */
  maxEvents: 128,
  /** Entries kept per array or map value. */
  maxListEntries: 128,
  /** Deepest nesting of arrays and maps kept. */
  maxDepth: 4,
  /** Largest OTLP request body on the wire (HTTP and gRPC). */
  maxRequestBytes: 4 * 1024 * 1024,
  /** Largest OTLP request body after gunzip. */
  maxDecodedBytes: 16 * 1024 * 1024,
  /** Log records stored per LogSink push; the rest are dropped and reported in the response. */
  maxLogBatch: 10_000,
} as const;

/** Cuts a string to `max` characters, saying how much was cut so nobody mistakes it for the whole. */
export function bound(text: string, max: number = LIMITS.maxStringChars): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}...[truncated ${text.length - max} chars]`;
}

/**
 * Maps free-form severities (OTLP severity text, winston levels, "WARNING", "fatal", java.util.logging's
 * SEVERE and FINE, glog's and Android's single letters) to four levels.
 */
export function normalizeLevel(level: string): LogLevel {
  const l = level.toLowerCase();
  if (
    l.startsWith("debug") ||
    l.startsWith("trace") ||
    l.startsWith("fine") ||
    l === "silly" ||
    l === "verbose" ||
    l === "d" ||
    l === "v"
  )
    return "debug";
  if (l.startsWith("warn") || l === "w") return "warn";
  if (
    l.startsWith("err") ||
    l.startsWith("fatal") ||
    l === "severe" ||
    l === "crit" ||
    l === "critical" ||
    l === "alert" ||
    l === "emerg" ||
    l === "e" ||
    l === "f"
  )
    return "error";
  return "info";
}

/** Picks whom a client span talks to, from the attributes the OTel semantic conventions define. */
export function peerOf(attributes: Attributes): string {
  for (const key of ["peer.service", "server.address", "net.peer.name", "http.host"]) {
    const v = attributes[key];
    if (typeof v === "string" && v !== "") return v;
  }
  return "";
}
