// The sidecar's structured logs, through winston: one access-log line per request (time, method,
// authority, path, status, duration, bytes, upstream endpoint, trace and span ids) and the sidecar's
// own messages. Lines go to the log shipper (the control plane's log sink) and, when the config
// names "stdout", to the sidecar's own output. Level, access log on/off, fields, sampling and sinks
// come from the telemetry config and change live.
import type { Writable } from "node:stream";
import winston from "winston";
import TransportStream from "winston-transport";
import type { LogShipper, ShippedLine } from "./log-shipper";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LoggingSettings {
  level: LogLevel;
  accessLog: boolean;
  /** Access-log fields to keep (ACCESS_FIELDS names); empty = all. */
  fields: string[];
  /** 0..1 of access-log lines kept; errors (5xx, no response) are always kept. */
  samplingRatio: number;
  /** "control-plane" and/or "stdout". */
  sinks: string[];
}

export interface AccessEntry {
  direction: "inbound" | "outbound";
  method: string;
  authority: string;
  path: string;
  protocol: string;
  /** 0 when no response came. */
  status: number;
  durationMs: number;
  bytesReceived: number;
  bytesSent: number;
  upstream: string;
  /** The destination service (outbound) or this workload's (inbound). */
  service: string;
  traceId: string;
  spanId: string;
  requestId: string;
  peer: string;
  /** Inbound over mutual TLS: the caller's SPIFFE identity; "" otherwise. */
  peerIdentity: string;
}

export const ACCESS_FIELDS = [
  "direction",
  "method",
  "authority",
  "path",
  "protocol",
  "status",
  "duration_ms",
  "bytes_received",
  "bytes_sent",
  "upstream",
  "upstream_service",
  "request_id",
  "peer",
  "peer_identity",
] as const;

const DEFAULTS: LoggingSettings = {
  level: "info",
  accessLog: true,
  fields: [],
  samplingRatio: 1,
  sinks: ["control-plane"],
};

const LEVELS = new Set(["debug", "info", "warn", "error"]);

/** Hands winston's entries to the shipper as log-sink records. */
class ShipperTransport extends TransportStream {
  constructor(
    private readonly shipper: LogShipper,
    private readonly identity: { workload: string; service: string; nodeId: string },
  ) {
    super();
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    // Lines are filed under this workload's service: the one that logged them.
    const { level, message, source, traceId, spanId, timeUnixNano, ...rest } = info as Record<
      string,
      unknown
    >;
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) attributes[k] = String(v);
    const line: ShippedLine = {
      timeUnixNano: typeof timeUnixNano === "string" ? timeUnixNano : "0",
      service: this.identity.service || this.identity.workload,
      container: this.identity.workload,
      instance: this.identity.nodeId,
      level: LEVELS.has(String(level)) ? (level as ShippedLine["level"]) : "info",
      source: source === "access" ? "access" : "app",
      message: String(message),
      traceId: typeof traceId === "string" ? traceId : "",
      spanId: typeof spanId === "string" ? spanId : "",
      attributes,
    };
    this.shipper.push(line);
    next();
  }
}

const LEVEL_RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

type AccessField = (typeof ACCESS_FIELDS)[number];

/**
 * Access lines skip winston on their way to the control plane: winston's per-line stream pipeline
 * (format, transform, transport write) was the largest per-request cost of telemetry, and a line
 * headed for the shipper needs none of it. winston still writes the sidecar's own messages to
 * both sinks and access lines to stdout when the config names that sink.
 */
export class AccessLog {
  private settings: LoggingSettings = DEFAULTS;
  private readonly logger: winston.Logger;
  /** Access lines for the "stdout" sink only (the shipper gets them directly). */
  private readonly stdoutLogger: winston.Logger;
  private readonly shipperTransport?: ShipperTransport;
  private readonly stdoutTransport: winston.transport;
  private toShipper = true;
  private toStdout = false;
  private levelRank = LEVEL_RANK.info;
  /** undefined = every field. */
  private keep?: Set<string>;
  private readonly service: string;

  constructor(
    private readonly o: {
      workload: string;
      service: string;
      nodeId: string;
      shipper?: LogShipper;
      /** Where the "stdout" sink writes; default process.stdout. */
      stdout?: Writable;
      random?: () => number;
    },
  ) {
    const identity = { workload: o.workload, service: o.service, nodeId: o.nodeId };
    this.service = o.service || o.workload;
    this.shipperTransport = o.shipper ? new ShipperTransport(o.shipper, identity) : undefined;
    const stdoutFormat = winston.format.combine(winston.format.timestamp(), winston.format.json());
    this.stdoutTransport = new winston.transports.Stream({
      stream: o.stdout ?? process.stdout,
      format: stdoutFormat,
    });
    this.logger = winston.createLogger({ level: DEFAULTS.level, exitOnError: false });
    this.stdoutLogger = winston.createLogger({
      level: "debug",
      exitOnError: false,
      transports: [
        new winston.transports.Stream({ stream: o.stdout ?? process.stdout, format: stdoutFormat }),
      ],
    });
    this.applyTransports();
  }

  /** undefined = the defaults (info, access log on, every field, control plane). Never throws. */
  configure(settings: LoggingSettings | undefined): void {
    const s = settings ?? DEFAULTS;
    this.settings = s;
    this.logger.level = s.level;
    this.levelRank = LEVEL_RANK[s.level] ?? LEVEL_RANK.info;
    this.toShipper = this.o.shipper !== undefined && s.sinks.includes("control-plane");
    this.toStdout = s.sinks.includes("stdout");
    this.keep = s.fields.length === 0 ? undefined : new Set(s.fields);
    this.applyTransports();
  }

  /** Whether a request with this status would be logged at all (before sampling): lets the caller
   * skip building the entry. */
  wants(status: number): boolean {
    if (!this.settings.accessLog || !(this.toShipper || this.toStdout)) return false;
    return LEVEL_RANK[levelOf(status)] <= this.levelRank;
  }

  /** One line per request; cheap when the access log is off or sampled out. */
  record(e: AccessEntry): void {
    const s = this.settings;
    if (!s.accessLog) return;
    const failed = e.status === 0 || e.status >= 500;
    if (!failed && s.samplingRatio < 1 && (this.o.random ?? Math.random)() >= s.samplingRatio) return;
    const level = levelOf(e.status);
    if (LEVEL_RANK[level] > this.levelRank) return;
    // The direction first: a caller's outbound line and the callee's inbound line for one request
    // are otherwise the same words.
    const message = `${e.direction} ${e.method} ${e.authority}${e.path} ${e.status || "-"} ${Math.round(e.durationMs)}ms`;
    const attributes = this.fieldsOf(e);
    const timeMs = Date.now();
    if (this.toShipper) {
      (this.o.shipper as LogShipper).push({
        timeUnixNano: "",
        timeMs,
        service: this.service,
        container: this.o.workload,
        instance: this.o.nodeId,
        level,
        source: "access",
        message,
        traceId: e.traceId,
        spanId: e.spanId,
        attributes,
      });
    }
    if (this.toStdout) {
      this.stdoutLogger.log({
        level,
        message,
        source: "access",
        // Whole milliseconds: six zeros make nanoseconds, without BigInt or Date objects.
        timeUnixNano: `${timeMs}000000`,
        traceId: e.traceId,
        spanId: e.spanId,
        ...this.typedFields(e, attributes),
      });
    }
  }

  /** The sidecar's own messages (config rejected, upstream ejected, ...). */
  log(level: LogLevel, message: string, attributes: Record<string, string> = {}): void {
    // Checked now: winston's streams filter later, by then the level may have changed.
    if (!this.logger.isLevelEnabled(level)) return;
    this.logger.log({ level, message, source: "app", ...attributes });
  }

  /** The configured fields as the log sink's string attributes, in one object literal when all are kept. */
  private fieldsOf(e: AccessEntry): Record<string, string> {
    const all: Record<AccessField, string> = {
      direction: e.direction,
      method: e.method,
      authority: e.authority,
      path: e.path,
      protocol: e.protocol,
      status: String(e.status),
      duration_ms: String(Math.round(e.durationMs * 1000) / 1000),
      bytes_received: String(e.bytesReceived),
      bytes_sent: String(e.bytesSent),
      upstream: e.upstream,
      upstream_service: e.service,
      request_id: e.requestId,
      peer: e.peer,
      peer_identity: e.peerIdentity,
    };
    const keep = this.keep;
    if (!keep) return all;
    const some: Record<string, string> = {};
    for (const k of ACCESS_FIELDS) if (keep.has(k)) some[k] = all[k];
    return some;
  }

  /** stdout's JSON keeps numbers as numbers, as it always has. */
  private typedFields(e: AccessEntry, fields: Record<string, string>): Record<string, string | number> {
    const typed: Record<string, string | number> = { ...fields };
    if ("status" in typed) typed.status = e.status;
    if ("duration_ms" in typed) typed.duration_ms = Math.round(e.durationMs * 1000) / 1000;
    if ("bytes_received" in typed) typed.bytes_received = e.bytesReceived;
    if ("bytes_sent" in typed) typed.bytes_sent = e.bytesSent;
    return typed;
  }

  private applyTransports(): void {
    this.logger.clear();
    if (this.shipperTransport && this.settings.sinks.includes("control-plane"))
      this.logger.add(this.shipperTransport);
    if (this.settings.sinks.includes("stdout")) this.logger.add(this.stdoutTransport);
    // winston warns on stderr when a logger has no transports; a silent one is what "no sinks" means.
    if (this.logger.transports.length === 0)
      this.logger.add(new winston.transports.Console({ silent: true }));
  }
}

function levelOf(status: number): LogLevel {
  return status === 0 || status >= 500 ? "error" : status >= 400 ? "warn" : "info";
}
