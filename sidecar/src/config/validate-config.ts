// Checks the route, policy and telemetry resources the control plane pushes (snake_case, as
// grpc-js decodes them) and turns them into domain values, or throws INVALID_CONFIG naming the
// field, which goes back as the NACK reason while the sidecar keeps its last good config.
import { consistentHashProblem, type GenerateCookie } from "../../../proto/consistent-hash-rules";
import { type RateLimitSpec, rateLimitProblem } from "../../../proto/rate-limit-rules";
import { type Redirect, type Rewrite, redirectProblem, rewriteProblem } from "../../../proto/rewrite-rules";
import { parseHeaderModifiers } from "./header-edits";
import type {
  FaultConfig,
  PolicyConfig,
  RetryConfig,
  RouteConfig,
  RouteMatchConfig,
  RouteRuleConfig,
  ServiceRoutesConfig,
  TelemetrySettings,
} from "./types";
import { bad, labels, object, str } from "./validate";
import { parseAuthorization } from "./validate-authorization";

export function parseServiceRoutes(value: unknown, path: string, resourceName: string): ServiceRoutesConfig {
  const o = object(value, path);
  const service = str(o.service || resourceName, `${path}.service`);
  if (service !== resourceName)
    bad(`${path}.service "${service}" does not match the resource name "${resourceName}"`);
  const routes = list(o.routes, `${path}.routes`).map((r, i) =>
    parseRoute(r, `${path}.routes[${i}]`, service),
  );
  return { service, routes };
}

function parseRoute(value: unknown, path: string, service: string): RouteConfig {
  const o = object(value, path);
  const name = str(o.name, `${path}.name`);
  if (!name) bad(`${path}.name is required`);
  const spec = object(o.spec ?? {}, `${path}.spec`);
  const target = str(spec.service ?? "", `${path}.spec.service`);
  if (target !== "" && target !== service) bad(`${path}.spec.service "${target}" is not "${service}"`);
  const rules = list(spec.rules, `${path}.spec.rules`).map((r, i) =>
    parseRule(r, `${path}.spec.rules[${i}]`),
  );
  return { name, version: count(o.version ?? 0, `${path}.version`), rules };
}

function parseRule(value: unknown, path: string): RouteRuleConfig {
  const o = object(value, path);
  const rule: RouteRuleConfig = {
    split: list(o.split, `${path}.split`).map((s, i) => {
      const w = object(s, `${path}.split[${i}]`);
      return {
        labels: labels(w.labels, `${path}.split[${i}].labels`),
        weight: uint(w.weight, `${path}.split[${i}].weight`),
      };
    }),
    timeoutMs: uint(o.timeout_ms ?? 0, `${path}.timeout_ms`),
  };
  if (rule.split.length > 0 && rule.split.every((s) => s.weight === 0))
    bad(`${path}.split needs a weight above 0`);
  if (o.match) rule.match = parseMatch(o.match, `${path}.match`);
  if (o.retries) rule.retries = parseRetries(o.retries, `${path}.retries`);
  if (o.fault) rule.fault = parseFault(o.fault, `${path}.fault`);
  const headers = parseHeaderModifiers(o.headers, `${path}.headers`);
  if (headers) rule.headers = headers;
  const rewrite = parseRewrite(o.rewrite, `${path}.rewrite`, rule.match?.pathPrefix);
  if (rewrite) rule.rewrite = rewrite;
  const redirect = parseRedirect(o.redirect, `${path}.redirect`, rule.match?.pathPrefix);
  if (redirect) rule.redirect = redirect;
  if (o.mirror) {
    const m = object(o.mirror, `${path}.mirror`);
    const subset = labels(m.labels, `${path}.mirror.labels`);
    if (Object.keys(subset).length === 0) bad(`${path}.mirror.labels must select a subset`);
    if (redirect) bad(`${path} has both a redirect and a mirror: a redirect is never forwarded`);
    rule.mirror = { labels: subset, ratio: ratio(m.ratio ?? 0, `${path}.mirror.ratio`) };
  }
  return rule;
}

/** The wire's HttpRewrite (empty strings are unset, as proto3 sends them), or undefined when it
 * changes nothing. */
function parseRewrite(value: unknown, path: string, matchPrefix: string | undefined): Rewrite | undefined {
  if (value === undefined || value === null) return undefined;
  const rewrite = rewriteFields(object(value, path), path);
  if (Object.keys(rewrite).length === 0) return undefined;
  const problem = rewriteProblem(rewrite, matchPrefix || undefined);
  if (problem) bad(`${path}: ${problem}`);
  return rewrite;
}

/** The wire's HttpRedirect, or undefined when absent or empty. */
function parseRedirect(value: unknown, path: string, matchPrefix: string | undefined): Redirect | undefined {
  if (value === undefined || value === null) return undefined;
  const o = object(value, path);
  const redirect: Redirect = rewriteFields(o, path);
  const scheme = optionalText(o.scheme, `${path}.scheme`);
  if (scheme !== undefined) redirect.scheme = scheme;
  const status = uint(o.status ?? 0, `${path}.status`);
  if (status !== 0) redirect.status = status;
  if (Object.keys(redirect).length === 0) return undefined;
  const problem = redirectProblem(redirect, matchPrefix || undefined);
  if (problem) bad(`${path}: ${problem}`);
  return redirect;
}

/** path, path_prefix and authority as set (proto3's empty strings left out). */
function rewriteFields(o: Record<string, unknown>, path: string): Rewrite {
  const rewrite: Rewrite = {};
  const full = optionalText(o.path, `${path}.path`);
  const prefix = optionalText(o.path_prefix, `${path}.path_prefix`);
  const authority = optionalText(o.authority, `${path}.authority`);
  if (full !== undefined) rewrite.path = full;
  if (prefix !== undefined) rewrite.pathPrefix = prefix;
  if (authority !== undefined) rewrite.authority = authority;
  return rewrite;
}

function optionalText(v: unknown, path: string): string | undefined {
  const s = v === undefined || v === null ? "" : str(v, path);
  return s === "" ? undefined : s;
}

function parseFault(value: unknown, path: string): FaultConfig {
  const o = object(value, path);
  const fault: FaultConfig = {
    delayRatio: ratio(o.delay_ratio ?? 0, `${path}.delay_ratio`),
    delayMs: uint(o.delay_ms ?? 0, `${path}.delay_ms`),
    abortRatio: ratio(o.abort_ratio ?? 0, `${path}.abort_ratio`),
    abortStatus: uint(o.abort_status ?? 0, `${path}.abort_status`),
  };
  if (fault.abortRatio > 0 && (fault.abortStatus < 200 || fault.abortStatus > 599))
    bad(`${path}.abort_status must be an HTTP status (200-599), got ${fault.abortStatus}`);
  return fault;
}

function parseMatch(value: unknown, path: string): RouteMatchConfig {
  const o = object(value, path);
  const m: RouteMatchConfig = {
    pathPrefix: str(o.path_prefix ?? "", `${path}.path_prefix`),
    pathExact: str(o.path_exact ?? "", `${path}.path_exact`),
    method: str(o.method ?? "", `${path}.method`).toUpperCase(),
    headers: labels(o.headers, `${path}.headers`),
  };
  for (const [field, v] of [
    ["path_prefix", m.pathPrefix],
    ["path_exact", m.pathExact],
  ] as const) {
    if (v !== "" && !v.startsWith("/")) bad(`${path}.${field} "${v}" must start with "/"`);
  }
  return m;
}

function parseRetries(value: unknown, path: string): RetryConfig {
  const o = object(value, path);
  const codes = list(o.retry_on_status, `${path}.retry_on_status`).map((c, i) => {
    const code = uint(c, `${path}.retry_on_status[${i}]`);
    if (code < 100 || code > 599)
      bad(`${path}.retry_on_status[${i}] must be an HTTP status (100-599), got ${code}`);
    return code;
  });
  return {
    attempts: uint(o.attempts ?? 0, `${path}.attempts`),
    perTryTimeoutMs: uint(o.per_try_timeout_ms ?? 0, `${path}.per_try_timeout_ms`),
    retryOnStatus: codes,
    retryOnConnectFailure: o.retry_on_connect_failure === true,
    budgetRatio: ratio(o.budget_ratio ?? 0, `${path}.budget_ratio`),
  };
}

export function parseServicePolicy(value: unknown, path: string, resourceName: string): PolicyConfig {
  const o = object(value, path);
  const service = str(o.service || resourceName, `${path}.service`);
  if (service !== resourceName)
    bad(`${path}.service "${service}" does not match the resource name "${resourceName}"`);
  const policy: PolicyConfig = {
    service,
    name: str(o.name ?? "", `${path}.name`),
    version: count(o.version ?? 0, `${path}.version`),
  };
  const spec = object(o.spec ?? {}, `${path}.spec`);
  const balancer = str(spec.load_balancer ?? "", `${path}.spec.load_balancer`);
  if (balancer === "least_request" || balancer === "round_robin" || balancer === "consistent_hash")
    policy.loadBalancer = balancer;
  else if (balancer !== "")
    bad(
      `${path}.spec.load_balancer must be "least_request", "round_robin" or "consistent_hash", got "${balancer}"`,
    );
  if (spec.consistent_hash) {
    const p = `${path}.spec.consistent_hash`;
    const c = object(spec.consistent_hash, p);
    const source = {
      httpHeaderName: str(c.http_header_name ?? "", `${p}.http_header_name`) || undefined,
      httpCookieName: str(c.http_cookie_name ?? "", `${p}.http_cookie_name`) || undefined,
      httpQueryParameterName:
        str(c.http_query_parameter_name ?? "", `${p}.http_query_parameter_name`) || undefined,
      useSourceIp: c.use_source_ip === true || undefined,
      generateCookie: cookieToGenerate(c.generate_cookie, `${p}.generate_cookie`),
    };
    const problem = consistentHashProblem(source);
    if (problem) bad(`${p}: ${problem}`);
    if (policy.loadBalancer && policy.loadBalancer !== "consistent_hash")
      bad(`${path}.spec.load_balancer is "${policy.loadBalancer}" but spec.consistent_hash is set`);
    policy.consistentHash = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined));
    policy.loadBalancer = "consistent_hash";
  } else if (policy.loadBalancer === "consistent_hash") {
    bad(
      `${path}.spec.load_balancer is "consistent_hash" but spec.consistent_hash is missing: nothing to hash`,
    );
  }
  if (spec.circuit_breaker) {
    const c = object(spec.circuit_breaker, `${path}.spec.circuit_breaker`);
    policy.circuitBreaker = {
      maxConnections: uint(c.max_connections ?? 0, `${path}.spec.circuit_breaker.max_connections`),
      maxPendingRequests: uint(
        c.max_pending_requests ?? 0,
        `${path}.spec.circuit_breaker.max_pending_requests`,
      ),
      maxRequestsPerConnection: uint(
        c.max_requests_per_connection ?? 0,
        `${path}.spec.circuit_breaker.max_requests_per_connection`,
      ),
    };
  }
  if (spec.outlier_detection) {
    const d = object(spec.outlier_detection, `${path}.spec.outlier_detection`);
    const p = `${path}.spec.outlier_detection`;
    policy.outlierDetection = {
      consecutive5xx: uint(d.consecutive_5xx ?? 0, `${p}.consecutive_5xx`),
      consecutiveConnectFailures: uint(
        d.consecutive_connect_failures ?? 0,
        `${p}.consecutive_connect_failures`,
      ),
      intervalMs: uint(d.interval_ms ?? 0, `${p}.interval_ms`),
      baseEjectionTimeMs: uint(d.base_ejection_time_ms ?? 0, `${p}.base_ejection_time_ms`),
      maxEjectionRatio: ratio(d.max_ejection_ratio ?? 0, `${p}.max_ejection_ratio`),
    };
  }
  if (spec.rate_limit) policy.rateLimit = parseRateLimit(spec.rate_limit, `${path}.spec.rate_limit`);
  if (o.authorization)
    policy.authorization = parseAuthorization(o.authorization, `${path}.authorization`, service);
  return policy;
}

/** The wire's RateLimit: proto3 leaves "" and 0 for what is not set; absent there, absent here. */
function parseRateLimit(value: unknown, path: string): RateLimitSpec {
  const o = object(value, path);
  const limit: RateLimitSpec = {
    requestsPerSecond: uint(o.requests_per_second ?? 0, `${path}.requests_per_second`),
    burst: uint(o.burst ?? 0, `${path}.burst`) || undefined,
    routes: list(o.routes, `${path}.routes`).map((v, i) => {
      const p = `${path}.routes[${i}]`;
      const r = object(v, p);
      return {
        pathPrefix: str(r.path_prefix ?? "", `${p}.path_prefix`) || undefined,
        pathExact: str(r.path_exact ?? "", `${p}.path_exact`) || undefined,
        method: str(r.method ?? "", `${p}.method`) || undefined,
        requestsPerSecond: uint(r.requests_per_second ?? 0, `${p}.requests_per_second`),
        burst: uint(r.burst ?? 0, `${p}.burst`) || undefined,
      };
    }),
  };
  const problem = rateLimitProblem(limit);
  if (problem) bad(`${path}: ${problem}`);
  return limit;
}

const LEVELS = new Set(["debug", "info", "warn", "error"]);

export function parseTelemetry(value: unknown, path: string, resourceName: string): TelemetrySettings {
  const o = object(value, path);
  const spec = object(o.spec ?? {}, `${path}.spec`);
  const settings: TelemetrySettings = {
    name: str(o.name || resourceName, `${path}.name`),
    version: count(o.version ?? 0, `${path}.version`),
    service: str(spec.service ?? "", `${path}.spec.service`),
  };
  if (spec.tracing) {
    const tr = object(spec.tracing, `${path}.spec.tracing`);
    settings.tracing = {
      enabled: tr.enabled === true,
      samplingRatio: ratio(tr.sampling_ratio ?? 0, `${path}.spec.tracing.sampling_ratio`),
      otlpEndpoint: str(tr.otlp_endpoint ?? "", `${path}.spec.tracing.otlp_endpoint`),
      resourceAttributes: labels(tr.resource_attributes, `${path}.spec.tracing.resource_attributes`),
    };
  }
  if (spec.logging) {
    const lg = object(spec.logging, `${path}.spec.logging`);
    const level = str(lg.level || "info", `${path}.spec.logging.level`);
    if (!LEVELS.has(level))
      bad(`${path}.spec.logging.level must be debug, info, warn or error, got "${level}"`);
    settings.logging = {
      level: level as "debug" | "info" | "warn" | "error",
      accessLog: lg.access_log === true,
      fields: list(lg.fields, `${path}.spec.logging.fields`).map((f, i) =>
        str(f, `${path}.spec.logging.fields[${i}]`),
      ),
      samplingRatio: ratio(lg.sampling_ratio ?? 0, `${path}.spec.logging.sampling_ratio`),
      sinks: list(lg.sinks, `${path}.spec.logging.sinks`).map((f, i) =>
        str(f, `${path}.spec.logging.sinks[${i}]`),
      ),
    };
  }
  return settings;
}

function list(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) bad(`${path} must be a list`);
  return value;
}

function uint(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    bad(`${path} must be a whole number of at least 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** uint64 fields arrive as decimal strings (longs: String). */
function count(value: unknown, path: string): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return uint(n, path);
}

function ratio(value: unknown, path: string): number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    bad(`${path} must be a ratio from 0 to 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The wire's GenerateCookie (null when absent): path "" is "/", ttl 0 a session cookie. */
function cookieToGenerate(value: unknown, path: string): GenerateCookie | undefined {
  if (value === undefined || value === null) return undefined;
  const g = object(value, path);
  const ttl = g.ttl_seconds ?? 0;
  if (typeof ttl !== "number") bad(`${path}.ttl_seconds must be a number`);
  return { path: str(g.path ?? "", `${path}.path`) || "/", ttlSeconds: ttl };
}
