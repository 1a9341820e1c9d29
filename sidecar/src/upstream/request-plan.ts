// One request's (or one TCP connection's) RequestPlan: picks the endpoint of each attempt, keeps
// in-flight counts, feeds every outcome to the latency estimate and outlier detection, and decides
// on retries (upstream/plan.ts is the contract with the proxies).
import { TLS_MODE_LABEL, TLS_MODE_MUTUAL } from "../../../proto/mtls-mode";
import type { HeaderModifiersConfig } from "../config/header-edits";
import type { Metrics } from "../telemetry/metrics";
import { type CircuitBreakerLimits, overflowRefusal } from "./circuit-breaker";
import { type EndpointStats, FAILURE_PENALTY_MS } from "./endpoint-stats";
import type { OutlierSettings } from "./outlier-detection";
import type {
  AttemptOutcome,
  AttemptTarget,
  InjectedFault,
  MirrorTarget,
  Refusal,
  RequestPlan,
  RewrittenRequest,
} from "./plan";
import { isRetryable, outcomeLabel, type RetrySettings } from "./retry-policy";
import type { ServiceState } from "./service-state";

export interface AttemptPlanInput {
  service: ServiceState;
  /** The endpoints this request may go to (the split's subset), never empty. */
  candidates: EndpointStats[];
  /** The request's consistent-hash key (hashKey of it), when its policy hashes and it has one. */
  hashKey?: number;
  route: string;
  fault?: InjectedFault;
  /** The matched rule's header changes (HTTP only). */
  headers?: HeaderModifiersConfig;
  /** Mutual TLS to endpoints whose sidecar takes it (false: the service's mode is DISABLE). */
  meshTls: boolean;
  mirror?: MirrorTarget;
  rewrite?: RewrittenRequest;
  timeoutMs: number;
  retry: RetrySettings;
  limits: CircuitBreakerLimits;
  outlier: OutlierSettings;
  /** The request's method; undefined: an opaque TCP connection. */
  method?: string;
  now: () => number;
  metrics?: Metrics;
}

/** AttemptTarget.meshTlsService: the service when the plan allows mutual TLS and the endpoint's
 * sidecar takes it, else "" (plain text). */
export function meshTlsServiceOf(
  meshTls: boolean,
  endpoint: { labels: Record<string, string> },
  service: string,
): string {
  return meshTls && endpoint.labels[TLS_MODE_LABEL] === TLS_MODE_MUTUAL ? service : "";
}

export class AttemptPlan implements RequestPlan {
  readonly route: string;
  readonly fault?: InjectedFault;
  readonly mirror?: MirrorTarget;
  readonly headers: HeaderModifiersConfig | undefined;
  readonly rewrite: RewrittenRequest | undefined;
  readonly timeoutMs: number;
  readonly perTryTimeoutMs: number;
  private retries = 0;
  /** Endpoints that failed an attempt of this request: a retry goes elsewhere when it can. */
  private readonly failed = new Set<EndpointStats>();
  private readonly open = new Map<AttemptTarget, EndpointStats>();

  constructor(private readonly input: AttemptPlanInput) {
    this.route = input.route;
    if (input.fault) this.fault = input.fault;
    if (input.mirror) this.mirror = input.mirror;
    this.headers = input.headers;
    this.rewrite = input.rewrite;
    this.timeoutMs = input.timeoutMs;
    this.perTryTimeoutMs = input.method === undefined ? 0 : input.retry.perTryTimeoutMs;
  }

  next(): AttemptTarget | Refusal {
    const { service, limits, metrics } = this.input;
    const tcp = this.input.method === undefined;
    const breaker = service.breaker;
    if (tcp ? !breaker.connectionFits(limits) : !breaker.requestFits(limits)) {
      const kind = tcp ? "connections" : "pending-requests";
      metrics?.circuitBreakerOverflow(service.name, kind);
      return overflowRefusal(service.name, kind, limits);
    }
    const nowMs = this.input.now();
    const stats = service.balancer.pick(this.available(nowMs), nowMs, this.input.hashKey);
    if (tcp) breaker.connections++;
    else breaker.requests++;
    stats.inFlight++;
    const target: AttemptTarget = {
      host: stats.endpoint.address,
      port: stats.port,
      endpoint: stats.endpoint.id || stats.key,
      maxRequestsPerConnection: limits.maxRequestsPerConnection,
      meshTlsService: meshTlsServiceOf(this.input.meshTls, stats.endpoint, service.name),
    };
    this.open.set(target, stats);
    return target;
  }

  ended(target: AttemptTarget, outcome: AttemptOutcome, replayable: boolean): boolean {
    const stats = this.open.get(target);
    if (!stats) return false; // not ours, or ended twice: counted once already
    this.open.delete(target);
    const { service, metrics, retry, method } = this.input;
    const tcp = method === undefined;
    const nowMs = this.input.now();
    stats.inFlight--;
    if (tcp) service.breaker.connections--;
    else service.breaker.requests--;
    metrics?.upstreamRequest(service.name, stats.key, outcomeLabel(outcome));
    this.learn(stats, outcome, nowMs);
    if (!replayable || outcome.kind === "cancelled") return false;
    if (outcome.kind !== "response" || outcome.status >= 500) this.failed.add(stats);
    if (this.retries >= retry.attempts || !isRetryable(outcome, retry, method)) return false;
    if (!tcp) {
      // A retry is one more request in flight: not past the breaker, not past the budget.
      if (!service.breaker.requestFits(this.input.limits)) return false;
      if (!service.budget.tryRetry(retry.budgetRatio, nowMs)) {
        metrics?.retryBudgetExhausted(service.name);
        return false;
      }
    }
    this.retries++;
    metrics?.upstreamRetry(service.name, stats.key, outcomeLabel(outcome));
    return true;
  }

  /** Feeds an outcome to the latency estimate and outlier detection. */
  private learn(stats: EndpointStats, outcome: AttemptOutcome, nowMs: number): void {
    const { service, outlier, metrics, method } = this.input;
    const record = (signal: "success" | "5xx" | "connect-failure") =>
      service.detector.record(stats, signal, service.stats.values(), outlier, nowMs);
    switch (outcome.kind) {
      case "cancelled":
        return; // says nothing about the endpoint
      case "connect-failure":
        stats.observe(FAILURE_PENALTY_MS, nowMs);
        record("connect-failure");
        return;
      case "response":
        if (outcome.status >= 500) {
          stats.observe(Math.max(FAILURE_PENALTY_MS, outcome.latencyMs), nowMs);
          record("5xx");
        } else {
          // For a TCP connection the "response" is the connect, its latency the connect time.
          stats.observe(outcome.latencyMs, nowMs);
          record("success");
        }
        return;
      case "timeout":
        metrics?.upstreamTimeout(service.name, stats.key);
        stats.observe(FAILURE_PENALTY_MS, nowMs);
        record("5xx");
        return;
      case "reset":
        // TCP: the connection was made and later broke, which is no sign of a bad endpoint.
        if (method === undefined) {
          record("success");
          return;
        }
        stats.observe(FAILURE_PENALTY_MS, nowMs);
        record("5xx");
        return;
    }
  }

  /**
   * Where the next attempt may go: endpoints neither ejected nor failed by this request; else those
   * not ejected; else all (panic, as Envoy: better an endpoint that may fail than certain failure).
   */
  private available(nowMs: number): EndpointStats[] {
    const { candidates, service } = this.input;
    const inService = candidates.filter((s) => !service.detector.isEjected(s, nowMs));
    if (inService.length === 0) return candidates;
    if (this.failed.size === 0) return inService;
    const fresh = inService.filter((s) => !this.failed.has(s));
    return fresh.length > 0 ? fresh : inService;
  }
}
