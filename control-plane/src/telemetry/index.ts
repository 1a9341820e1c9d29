// The telemetry component's public surface (control plane side of issue #8): OTLP receivers, the
// trace and log store, its queries, the LogSink service, REST routes and CLI verbs.
export { telemetryCommands } from "./cli";
export { TelemetryError, type TelemetryErrorCode } from "./errors";
export type { IngestCounters } from "./ingest";
export { loadTelemetryProto, logFromWire } from "./log-sink";
export { formatLogLine, type MeshLogsOptions, streamMeshLogs } from "./mesh-logs";
export type {
  GraphEdge,
  GraphNode,
  InstanceStats,
  LogSearch,
  LogView,
  ServiceGraph,
  ServiceInstances,
  SpanView,
  TraceSearch,
  TraceSummary,
  TraceView,
} from "./query-types";
export { parseDurationMs } from "./rest-params";
export type { TelemetryStatus } from "./rest-routes";
export type { RetentionLimits } from "./retention";
export { startTelemetry, type Telemetry, type TelemetryOptions } from "./telemetry";
export { RETENTION_DEFAULTS, TelemetryStore } from "./telemetry-store";
export type { LogEntry, SpanRecord } from "./types";
export { fmtMs, renderWaterfall } from "./waterfall";
