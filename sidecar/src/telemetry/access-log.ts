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

export class AccessLog {
  private settings: LoggingSettings = DEFAULTS;
  private readonly logger: winston.Logger;
  private readonly shipperTransport?: ShipperTransport;
  private readonly stdoutTransport: winston.transport;

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
    this.shipperTransport = o.shipper ? new ShipperTransport(o.shipper, identity) : undefined;
    this.stdoutTransport = new winston.transports.Stream({
      stream: o.stdout ?? process.stdout,
      format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    });
    this.logger = winston.createLogger({ level: DEFAULTS.level, exitOnError: false });
    this.applyTransports();
  }

  /** undefined = the defaults (info, access log on, every field, control plane). Never throws. */
  configure(settings: LoggingSettings | undefined): void {
    this.settings = settings ?? DEFAULTS;
    this.logger.level = this.settings.level;
    this.applyTransports();
  }

  /** One line per request; cheap when the access log is off or sampled out. */
  record(e: AccessEntry): void {
    const s = this.settings;
    if (!s.accessLog) return;
    const failed = e.status === 0 || e.status >= 500;
    if (!failed && s.samplingRatio < 1 && (this.o.random ?? Math.random)() >= s.samplingRatio) return;
    const all: Record<string, string | number> = {
      direction: e.direction,
      method: e.method,
      authority: e.authority,
      path: e.path,
      protocol: e.protocol,
      status: e.status,
      duration_ms: Math.round(e.durationMs * 1000) / 1000,
      bytes_received: e.bytesReceived,
      bytes_sent: e.bytesSent,
      upstream: e.upstream,
      upstream_service: e.service,
      request_id: e.requestId,
      peer: e.peer,
    };
    const fields: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(all))
      if (s.fields.length === 0 || s.fields.includes(k)) fields[k] = v;
    const level = failed ? "error" : e.status >= 400 ? "warn" : "info";
    if (!this.logger.isLevelEnabled(level)) return;
    this.logger.log({
      level,
      message: `${e.method} ${e.authority}${e.path} ${e.status || "-"} ${Math.round(e.durationMs)}ms`,
      source: "access",
      timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
      traceId: e.traceId,
      spanId: e.spanId,
      ...fields,
    });
  }

  /** The sidecar's own messages (config rejected, upstream ejected, ...). */
  log(level: LogLevel, message: string, attributes: Record<string, string> = {}): void {
    // Checked now: winston's streams filter later, by then the level may have changed.
    if (!this.logger.isLevelEnabled(level)) return;
    this.logger.log({ level, message, source: "app", ...attributes });
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
