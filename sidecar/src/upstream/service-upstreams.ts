// The routing layer's entry point: one RequestPlan per request (or TCP connection) to a service,
// from the service's routes, policy and healthy endpoints as the config store holds them now.
// Per-service state (latency, outlier ejections, circuit-breaker counts, retry budget) lives here
// across requests; the config itself is passed in each time, so a push applies to the next request.
import type { MtlsMode } from "../../../proto/mtls-mode";
import { type Redirect, type Rewrite, redirectLocation, rewriteTarget } from "../../../proto/rewrite-rules";
import type { HeaderModifiersConfig } from "../config/header-edits";
import type {
  EndpointConfig,
  PolicyConfig,
  PortConfig,
  Protocol,
  RouteRuleConfig,
  ServiceRoutesConfig,
} from "../config/types";
import type { RequestInfo, RouteRefusal } from "../http/route";
import type { Metrics } from "../telemetry/metrics";
import { circuitBreakerLimits } from "./circuit-breaker";
import type { EndpointStats } from "./endpoint-stats";
import { drawFault } from "./fault";
import { requestHashKey } from "./hash-key";
import { hashKey } from "./load-balancer-consistent-hash";
import { outlierSettings } from "./outlier-detection";
import type { RequestPlan, RewrittenRequest } from "./plan";
import { AttemptPlan, meshTlsServiceOf } from "./request-plan";
import { retrySettings } from "./retry-policy";
import { chooseMirror, chooseSubset, matchRule } from "./route-table";
import { ServiceState } from "./service-state";

export interface UpstreamsOptions {
  /** Milliseconds on a monotonic clock. Default performance.now. */
  now?: () => number;
  /** A number in [0, 1). Default Math.random. */
  random?: () => number;
  /** Where the upstream series go (retries, timeouts, ejections, overflows, faults). Default none. */
  metrics?: Metrics;
  /** Ejections and returns are logged here. Default none. */
  log?: (message: string) => void;
}

export interface PlanInput {
  service: string;
  servicePort: PortConfig;
  /** The service's healthy endpoints. */
  endpoints: readonly EndpointConfig[];
  routes?: ServiceRoutesConfig;
  policy?: PolicyConfig;
  /** The HTTP request; absent: one opaque TCP connection. */
  request?: RequestInfo;
  /** The connection's peer (an opaque TCP connection's consistent-hash key with useSourceIp). */
  clientAddress?: string;
  /** The service's mutual TLS mode. Default PERMISSIVE. */
  mtlsMode?: MtlsMode;
}

export class ServiceUpstreams {
  private readonly services = new Map<string, ServiceState>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly metrics?: Metrics;
  private readonly log: (message: string) => void;

  constructor(options: UpstreamsOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    if (options.metrics) this.metrics = options.metrics;
    this.log = options.log ?? (() => {});
    // Ejections end by the clock, not by an event: bring back the expired ones before a scrape so
    // weft_outlier_ejected does not show an endpoint as out after its time is up.
    options.metrics?.collect(() => this.expireEjections());
  }

  /** The plan for one request to `service` (or, without `request`, for one opaque TCP connection). */
  plan(input: PlanInput): RequestPlan | RouteRefusal {
    const nowMs = this.now();
    const state = this.state(input.service);
    state.useBalancer(input.policy?.loadBalancer);
    const all = state.sync(input.endpoints, input.servicePort, nowMs, (gone) => this.forget(state, gone));
    const { route, rule } = matchRule(input.routes, input.request);
    // A redirect is answered here, endpoints or not.
    if (rule?.redirect && input.request) return redirectAnswer(route, rule, input.request);
    if (all.length === 0) {
      return {
        route,
        status: 503,
        message: `no healthy endpoints for service "${input.service}" (port ${input.servicePort.port}); check that its workloads are running and pass their health checks ('weft ps')\n`,
      };
    }
    const subset = chooseSubset(input.service, rule, all, this.random);
    if (!subset.ok) return { route, status: 503, message: subset.message };
    const request = input.request;
    const retry = retrySettings(rule?.retries);
    let fault: ReturnType<typeof drawFault>;
    if (request) {
      state.budget.request(nowMs);
      fault = drawFault(rule?.fault, this.random);
      if (fault?.delayMs) this.metrics?.faultInjected(input.service, route, "delay");
      if (fault?.abortStatus) this.metrics?.faultInjected(input.service, route, "abort");
    }
    // The copy's endpoint is drawn from all of the service's, whatever subset the split chose.
    const mirror = request ? chooseMirror(rule, all, this.random) : undefined;
    const hash = input.policy?.consistentHash;
    const key = hash && requestHashKey(hash, request, input.clientAddress);
    const meshTls = meshTlsFor(input.mtlsMode ?? "PERMISSIVE", input.servicePort.protocol);
    return new AttemptPlan({
      service: state,
      candidates: subset.endpoints,
      route,
      ...(key ? { hashKey: hashKey(key.key) } : {}),
      ...(fault ? { fault } : {}),
      ...(mirror
        ? {
            mirror: {
              host: mirror.endpoint.address,
              port: mirror.port,
              endpoint: mirror.key,
              meshTlsService: meshTlsServiceOf(meshTls, mirror.endpoint, input.service),
            },
          }
        : {}),
      headers: request ? withSetCookie(rule?.headers, key?.setCookie) : undefined,
      meshTls,
      ...(request && rule?.rewrite ? { rewrite: rewritten(rule, request) } : {}),
      timeoutMs: request ? (rule?.timeoutMs ?? 0) : 0,
      retry,
      limits: circuitBreakerLimits(input.policy),
      outlier: outlierSettings(input.policy),
      ...(request ? { method: request.method } : {}),
      now: this.now,
      ...(this.metrics ? { metrics: this.metrics } : {}),
    });
  }

  private state(service: string): ServiceState {
    let state = this.services.get(service);
    if (!state) {
      state = new ServiceState(service, this.random, {
        ejected: (stats, durationMs, reason) => {
          this.metrics?.outlierEjected(service, stats.key);
          this.log(
            `outlier detection: ejected ${stats.key} of service "${service}" for ${Math.round(durationMs / 1000)} s after ${reason}`,
          );
        },
        returned: (stats) => {
          this.metrics?.outlierReturned(service, stats.key);
          this.log(`outlier detection: ${stats.key} of service "${service}" takes traffic again`);
        },
      });
      this.services.set(service, state);
    }
    return state;
  }

  /** An endpoint left the service: an ejection of it is over as far as metrics go. */
  private forget(state: ServiceState, stats: EndpointStats): void {
    if (stats.ejectedUntilMs !== 0) this.metrics?.outlierReturned(state.name, stats.key);
  }

  private expireEjections(): void {
    const nowMs = this.now();
    for (const state of this.services.values()) {
      for (const stats of state.stats.values()) state.detector.isEjected(stats, nowMs);
    }
  }
}

/** The rule's header changes, plus a Set-Cookie on the response when one was made up (added last,
 * so a rule's own edits of set-cookie leave it be). */
function withSetCookie(
  headers: HeaderModifiersConfig | undefined,
  setCookie: string | undefined,
): HeaderModifiersConfig | undefined {
  if (setCookie === undefined) return headers;
  const r = headers?.response;
  return {
    ...headers,
    response: {
      remove: r?.remove ?? [],
      set: r?.set ?? [],
      add: [...(r?.add ?? []), ["set-cookie", setCookie]],
    },
  };
}

function redirectAnswer(route: string, rule: RouteRuleConfig, request: RequestInfo): RouteRefusal {
  const r = rule.redirect as Redirect;
  const location = redirectLocation(request.path, request.authority, r, rule.match?.pathPrefix || undefined);
  return { route, status: r.status ?? 301, message: `redirected to ${location}\n`, location };
}

/** The rule's rewrite worked out for one request. */
function rewritten(rule: RouteRuleConfig, request: RequestInfo): RewrittenRequest {
  const r = rule.rewrite as Rewrite;
  const out: RewrittenRequest = {};
  if (r.path !== undefined || r.pathPrefix !== undefined)
    out.target = rewriteTarget(request.path, r, rule.match?.pathPrefix || undefined);
  if (r.authority !== undefined) out.authority = r.authority;
  return out;
}

/**
 * Whether callers open mutual TLS to the service's sidecars. A server-first port gets it only where
 * the service is STRICT: a PERMISSIVE sidecar takes such a client's silence as plain text and the
 * app greets at once, so it never waits to see whether TLS is coming (inbound.ts does the same).
 */
export function meshTlsFor(mode: MtlsMode, protocol: Protocol): boolean {
  if (mode === "DISABLE") return false;
  return protocol !== "server-first" || mode === "STRICT";
}
