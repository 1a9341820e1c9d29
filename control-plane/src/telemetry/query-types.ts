// The shapes of trace, graph and log queries and of their answers (docs/INTERFACES.md,
// "Observability"). Parsed and validated in rest-params.ts, answered by the query worker.
import type { Attributes, SpanEvent, SpanKindName } from "./types";

export interface TraceSearch {
  service?: string;
  operation?: string;
  minDurationNs?: number;
  status?: "ok" | "error";
  /** Nanoseconds since the epoch, as a decimal string (bigint does not survive JSON). */
  sinceNs: string;
  limit: number;
}

export interface TraceSummary {
  traceId: string;
  rootService: string;
  rootOperation: string;
  /** RFC 3339. */
  startTime: string;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  services: string[];
  /**
   * Some span's parent is not in the trace: the spans of some hops have not arrived yet (sidecars
   * send theirs within about a second of the request's end), or the trace began at a caller that
   * does not trace. The root shown is then the earliest span without a parent here.
   */
  partial: boolean;
}

export interface SpanView {
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: SpanKindName;
  service: string;
  startTime: string;
  startTimeUnixNano: string;
  durationMs: number;
  status: { code: "unset" | "ok" | "error"; message: string };
  attributes: Attributes;
  /** Resource attributes other than service.name (host, container, sdk...). */
  resource: Attributes;
  events: SpanEvent[];
}

export interface TraceView {
  traceId: string;
  spans: SpanView[];
}

export interface GraphQuery {
  sinceNs: string;
  nowNs: string;
}

export interface LatencyStats {
  requestRate: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export interface GraphNode extends LatencyStats {
  service: string;
  requests: number;
}

export interface GraphEdge extends LatencyStats {
  source: string;
  target: string;
  requests: number;
}

export interface ServiceGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** The seconds the numbers cover: the window asked for, or less when `sampled`. */
  windowSeconds: number;
  /** True when the window held more spans than one graph reads, so only its newest part is counted. */
  sampled: boolean;
}

export interface InstancesQuery {
  service: string;
  sinceNs: string;
  nowNs: string;
}

/** One replica of a service: the requests it served (its server spans), by the resource that sent them. */
export interface InstanceStats extends LatencyStats {
  /** The span resource's service.instance.id (a sidecar's: WORKLOAD.CONTAINER-ID); "" when unset. */
  instance: string;
  /** The span resource's weft.workload (a sidecar's: the container's name); "" when unset. */
  workload: string;
  requests: number;
}

export interface ServiceInstances {
  service: string;
  /** Busiest first. */
  instances: InstanceStats[];
  /** As ServiceGraph's. */
  windowSeconds: number;
  sampled: boolean;
}

export interface LogSearch {
  service?: string;
  container?: string;
  /** Lines at this level or more severe. */
  level?: "debug" | "info" | "warn" | "error";
  traceId?: string;
  /** Full-text search, words ANDed. */
  q?: string;
  sinceNs: string;
  limit: number;
}

export interface LogView {
  /** Store order; followers use it to skip lines they have already printed. */
  id: number;
  time: string;
  service: string;
  container: string;
  instance: string;
  level: string;
  source: string;
  message: string;
  traceId: string;
  spanId: string;
  attributes: Record<string, string>;
  /**
   * Search answers only, for a line with a trace id: whether any span of that trace is stored. A
   * line of an unsampled request (a health probe, a sampled-out one) names a trace that never will
   * be; one of a request just served, a trace whose spans have not arrived yet.
   */
  traceStored?: boolean;
}
