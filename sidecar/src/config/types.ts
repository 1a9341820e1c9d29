// Domain types of the config the sidecar routes by. The wire module turns discovery responses into
// these (through validate.ts); nothing else in the sidecar sees generated protobuf types.

import type { AuthorizationSpec } from "../../../proto/authorization-rules";
import type { ConsistentHashSource } from "../../../proto/consistent-hash-rules";
import type { MtlsMode } from "../../../proto/mtls-mode";
import type { RateLimitSpec } from "../../../proto/rate-limit-rules";
import type { Redirect, Rewrite } from "../../../proto/rewrite-rules";
import type { HeaderModifiersConfig } from "./header-edits";

/**
 * A port's protocol (docs/INTERFACES.md "Sidecar port protocols"). "auto" (the default, also for
 * an empty protocol) sniffs the first bytes; "tcp" and "server-first" never wait for the client.
 */
export type Protocol = "auto" | "http" | "http2" | "grpc" | "tcp" | "server-first";

export const PROTOCOLS: readonly Protocol[] = ["auto", "http", "http2", "grpc", "tcp", "server-first"];

export interface PortConfig {
  /** Optional name; an endpoint port with the same name serves a service port. */
  name: string;
  port: number;
  protocol: Protocol;
}

export interface ServiceConfig {
  name: string;
  /** IPv4 address the app connects to; "" when the control plane has not assigned one. */
  virtualIp: string;
  ports: PortConfig[];
  labels: Record<string, string>;
  /** How the service's sidecars take mesh traffic (proto/mtls-mode.ts). */
  mtlsMode: MtlsMode;
}

export interface EndpointConfig {
  id: string;
  service: string;
  address: string;
  ports: PortConfig[];
  labels: Record<string, string>;
  workload: string;
  node: string;
  healthy: boolean;
}

/** A batch of validated resources of one type, as one discovery response carried them. */
export interface ConfigUpdate<T> {
  /** Resources by name (a service name). */
  resources: Map<string, T>;
  /** Names removed (incremental responses only). */
  removed: string[];
  /** true: resources hold only what changed; false: resources are the whole state of the type. */
  incremental: boolean;
}

/** weft.v1.ServiceRoutes: every Route for one service, in the order they are evaluated. */
export interface ServiceRoutesConfig {
  service: string;
  routes: RouteConfig[];
}

export interface RouteConfig {
  name: string;
  version: number;
  rules: RouteRuleConfig[];
}

export interface RouteRuleConfig {
  /** Absent: the rule matches every request. */
  match?: RouteMatchConfig;
  /** Weighted subsets by endpoint labels; empty: all endpoints. */
  split: Array<{ labels: Record<string, string>; weight: number }>;
  /** 0: the sidecar's default. */
  timeoutMs: number;
  retries?: RetryConfig;
  /** Fault injection for testing; absent: none. */
  fault?: FaultConfig;
  /** Header changes on the request and the response; absent: none. */
  headers?: HeaderModifiersConfig;
  /** The path and authority the request goes upstream with; absent: as the client sent them. */
  rewrite?: Rewrite;
  /** Answer with a redirect instead of forwarding; absent: forward. */
  redirect?: Redirect;
  /** Copies of a share of the requests to a subset of the same service; absent: none. */
  mirror?: MirrorConfig;
}

export interface MirrorConfig {
  labels: Record<string, string>;
  /** Share of the rule's requests copied, 0..1. */
  ratio: number;
}

export interface FaultConfig {
  /** Delay this share of requests (0..1) by delayMs. */
  delayRatio: number;
  delayMs: number;
  /** Answer this share of requests (0..1) with abortStatus instead of forwarding them. */
  abortRatio: number;
  abortStatus: number;
}

/** How a service's endpoints are chosen: "least_request" (the default) is P2C over peak EWMA latency;
 * "consistent_hash" keeps a key on one endpoint (PolicyConfig.consistentHash says which key). */
export type LoadBalancerKind = "least_request" | "round_robin" | "consistent_hash";

export interface RouteMatchConfig {
  pathPrefix: string;
  pathExact: string;
  method: string;
  headers: Record<string, string>;
}

export interface RetryConfig {
  attempts: number;
  perTryTimeoutMs: number;
  retryOnStatus: number[];
  retryOnConnectFailure: boolean;
  budgetRatio: number;
}

/** weft.v1.ServicePolicy: circuit breaking and outlier detection for one service. */
export interface PolicyConfig {
  service: string;
  name: string;
  version: number;
  /** Absent: "least_request". */
  loadBalancer?: LoadBalancerKind;
  /** With loadBalancer "consistent_hash": what is hashed (exactly one source). */
  consistentHash?: ConsistentHashSource;
  circuitBreaker?: {
    maxConnections: number;
    maxPendingRequests: number;
    maxRequestsPerConnection: number;
  };
  outlierDetection?: {
    consecutive5xx: number;
    consecutiveConnectFailures: number;
    intervalMs: number;
    baseEjectionTimeMs: number;
    maxEjectionRatio: number;
  };
  /** Enforced on this service's own inbound requests (listeners/rate-limits.ts). */
  rateLimit?: RateLimitSpec;
  /** Who may call this service: enforced by its own sidecars, inbound (listeners/authorization.ts). */
  authorization?: AuthorizationConfig;
}

/** A service's AuthorizationPolicy as pushed. */
export interface AuthorizationConfig {
  name: string;
  spec: AuthorizationSpec;
}

/** weft.v1.Telemetry: "default", or one service's override. */
export interface TelemetrySettings {
  name: string;
  version: number;
  service: string;
  tracing?: {
    enabled: boolean;
    samplingRatio: number;
    otlpEndpoint: string;
    resourceAttributes: Record<string, string>;
  };
  logging?: {
    level: "debug" | "info" | "warn" | "error";
    accessLog: boolean;
    fields: string[];
    samplingRatio: number;
    sinks: string[];
  };
}
