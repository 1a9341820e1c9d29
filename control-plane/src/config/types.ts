// Domain types of the mesh config: the apiVersion/kind documents of proto/weft/v1/config.proto in
// camelCase. Nothing here knows about protobuf or HTTP; the API and the push generators convert.

import type { AuthorizationSpec } from "../../../proto/authorization-rules";
import type { ConsistentHashSource } from "../../../proto/consistent-hash-rules";
import type { MtlsMode } from "../../../proto/mtls-mode";
import type { RateLimitSpec } from "../../../proto/rate-limit-rules";
import type { Redirect, Rewrite } from "../../../proto/rewrite-rules";

export const API_VERSION = "weft.dev/v1";

export type ConfigKind = "Service" | "Route" | "ResiliencePolicy" | "Telemetry" | "AuthorizationPolicy";

export interface ConfigMetadata {
  name: string;
  labels: Record<string, string>;
  /** The object's change number: the global config version of its last change. */
  version: number;
  /** ISO-8601 times of the first and the last change. */
  createdAt: string;
  updatedAt: string;
}

export interface ConfigObject<S = unknown> {
  apiVersion: typeof API_VERSION;
  kind: ConfigKind;
  metadata: ConfigMetadata;
  spec: S;
}

// kind: Service
export interface ServicePortSpec {
  name?: string;
  port: number;
  /** Default "auto" (the sidecar detects) when the document leaves it out. */
  protocol: "auto" | "http" | "http2" | "grpc" | "tcp" | "server-first";
}
export interface ServiceSpec {
  ports: ServicePortSpec[];
  /** How the service's sidecars take mesh traffic. Default: the control plane's --mtls-mode. */
  mtls?: MtlsMode;
}

// kind: Route
export interface RouteMatch {
  pathPrefix?: string;
  pathExact?: string;
  /** Upper case, e.g. "GET". */
  method?: string;
  /** Lower-case header name to exact value. */
  headers?: Record<string, string>;
}
export interface WeightedSubset {
  labels: Record<string, string>;
  /** Relative weight, 0..100000; not all weights of a split are 0. */
  weight: number;
}
export interface RetryPolicy {
  /** Additional attempts after the first; 0 disables retries. */
  attempts: number;
  perTryTimeoutMs?: number;
  retryOnStatus?: number[];
  retryOnConnectFailure?: boolean;
  /** Retries as a share of requests, 0..1. */
  budgetRatio?: number;
}
/** Applied in this order: remove, set (replacing every value of the name), add (appending). */
export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}
export interface HeaderModifiers {
  /** On the request, before it goes upstream. */
  request?: HeaderOperations;
  /** On the response, before it reaches the caller. */
  response?: HeaderOperations;
}
export interface RouteRule {
  /** Absent: matches every request. */
  match?: RouteMatch;
  /** Absent: all endpoints of the service. */
  split?: WeightedSubset[];
  /** Absent or 0: the sidecar's default. */
  timeoutMs?: number;
  retries?: RetryPolicy;
  fault?: FaultInjection;
  headers?: HeaderModifiers;
  /** The path and authority the request goes upstream with. */
  rewrite?: HttpRewrite;
  /** Answer with a redirect instead of forwarding; not with split or rewrite. */
  redirect?: HttpRedirect;
  /** Copies of the requests to a subset of the same service, answers discarded; not with redirect. */
  mirror?: HttpMirror;
}
/** config.proto's HttpMirror: ratio is always set once validated (1 when the document leaves it out). */
export interface HttpMirror {
  labels: Record<string, string>;
  ratio: number;
}
/** config.proto's HttpRewrite and HttpRedirect, as proto/rewrite-rules.ts checks and applies them. */
export type HttpRewrite = Rewrite;
export type HttpRedirect = Redirect;
/** Fault injection for testing: both parts are drawn independently per request. */
export interface FaultInjection {
  /** Share of requests delayed by delayMs, 0..1. */
  delayRatio?: number;
  delayMs?: number;
  /** Share of requests answered with abortStatus instead of being forwarded, 0..1. */
  abortRatio?: number;
  abortStatus?: number;
}
export interface RouteSpec {
  service: string;
  rules: RouteRule[];
}

// kind: ResiliencePolicy
export interface CircuitBreaker {
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequestsPerConnection?: number;
}
export interface OutlierDetection {
  consecutive5xx?: number;
  consecutiveConnectFailures?: number;
  intervalMs?: number;
  baseEjectionTimeMs?: number;
  /** 0..1 */
  maxEjectionRatio?: number;
}
export type LoadBalancer = "least_request" | "round_robin" | "consistent_hash";
export interface ResiliencePolicySpec {
  service: string;
  /** Absent: "least_request" (power of two choices over peak EWMA latency, as Linkerd);
   * "consistent_hash" when consistentHash is set. */
  loadBalancer?: LoadBalancer;
  /** Session affinity: what a request's endpoint is hashed from (proto/consistent-hash-rules.ts). */
  consistentHash?: ConsistentHashSource;
  circuitBreaker?: CircuitBreaker;
  outlierDetection?: OutlierDetection;
  /** Enforced by the service's own sidecars on what they receive (proto/rate-limit-rules.ts). */
  rateLimit?: RateLimitSpec;
}

// kind: Telemetry ("default" for every sidecar, or one service's own)
// Left-out fields get these defaults on their way to the sidecars (discovery/wire.ts).
export interface TracingConfig {
  /** Absent: true. */
  enabled?: boolean;
  /** New traces sampled, 0 to 1 (traces sampled upstream are always continued). Absent: 1. */
  samplingRatio?: number;
  /** OTLP endpoint; absent means the control plane. */
  otlpEndpoint?: string;
  resourceAttributes?: Record<string, string>;
}
export interface LoggingConfig {
  level?: "debug" | "info" | "warn" | "error";
  accessLog?: boolean;
  fields?: string[];
  /** Access-log lines kept, 0 to 1 (5xx and failed requests always are). Absent: 1. */
  samplingRatio?: number;
  /** "control-plane" (default) or URLs of other sinks. */
  sinks?: string[];
}
export interface TelemetrySpec {
  service?: string;
  tracing?: TracingConfig;
  logging?: LoggingConfig;
}

export interface SpecByKind {
  Service: ServiceSpec;
  Route: RouteSpec;
  ResiliencePolicy: ResiliencePolicySpec;
  Telemetry: TelemetrySpec;
  AuthorizationPolicy: AuthorizationSpec;
}

/** A validated document as a user sends it: no version unless they want optimistic concurrency. */
export interface ConfigDocument<S = unknown> {
  kind: ConfigKind;
  metadata: { name: string; labels: Record<string, string>; version?: number };
  spec: S;
}

export type ChangeType = "created" | "configured" | "deleted";

/** What happened to one document of an apply. */
export interface ApplyResult {
  kind: ConfigKind;
  name: string;
  action: ChangeType | "unchanged";
  version: number;
  /** What is valid but will not work as written now (a Route's subset with no endpoint); absent when none. */
  warnings?: string[];
}

export interface HistoryEntry {
  kind: ConfigKind;
  name: string;
  version: number;
  change: ChangeType;
  labels: Record<string, string>;
  /** The spec as of this version (for "deleted": the spec that was removed). */
  spec: unknown;
  at: string;
}

export interface ConfigChange {
  kind: ConfigKind;
  name: string;
  /** The service the object governs: spec.service, or the name of a Service; absent for the default Telemetry. */
  service?: string;
  deleted: boolean;
}

/** The contract other parts of the control plane (the push) rely on; see docs/INTERFACES.md. */
export interface ConfigStore {
  /** Every object of the kind, sorted by name. */
  list(kind: ConfigKind): ConfigObject[];
  get(kind: ConfigKind, name: string): ConfigObject | undefined;
  /** Routes/policies whose spec.service is `service`; telemetry "default" plus the service's own. */
  forService(kind: ConfigKind, service: string): ConfigObject[];
  /** Called after every committed change (apply, delete), with what changed. Returns an unsubscribe. */
  onChange(listener: (change: ConfigChange) => void): () => void;
}
