// The Service, Route and ResiliencePolicy specs, checked field by field (config.proto in camelCase).
// Telemetry is in validate-telemetry.ts; cross-object checks (does the service exist?) are in
// references.ts, because they need the store and the registry.
import {
  type ConsistentHashSource,
  consistentHashProblem,
  type GenerateCookie,
  MAX_COOKIE_TTL_SECONDS,
} from "../../../proto/consistent-hash-rules";
import { MTLS_MODES } from "../../../proto/mtls-mode";
import { redirectProblem, rewriteProblem } from "../../../proto/rewrite-rules";
import { isServiceName } from "../registration/validate";
import { invalid } from "./errors";
import type {
  CircuitBreaker,
  FaultInjection,
  HttpMirror,
  HttpRedirect,
  HttpRewrite,
  LoadBalancer,
  OutlierDetection,
  ResiliencePolicySpec,
  RetryPolicy,
  RouteMatch,
  RouteRule,
  RouteSpec,
  ServicePortSpec,
  ServiceSpec,
  WeightedSubset,
} from "./types";
import {
  boolean,
  compact,
  durationMs,
  integer,
  isAbsent,
  list,
  object,
  oneOf,
  optionalInteger,
  optionalString,
  ratio,
  string,
  stringMap,
} from "./validate-fields";
import { headerModifiers } from "./validate-headers";
import { rateLimit } from "./validate-rate-limit";

const MAX_WEIGHT = 100_000;
const MAX_COUNT = 1_000_000;
const LOAD_BALANCERS: readonly LoadBalancer[] = ["least_request", "round_robin", "consistent_hash"];
const HTTP_METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "CONNECT",
  "TRACE",
] as const;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

export function serviceRef(value: unknown, field: string): string {
  const name = string(value ?? "", field);
  if (name === "")
    invalid(field, "the name of a service", `${field} is required: name the service this applies to`);
  if (!isServiceName(name)) invalid(field, "a service name (letters, digits, '-', '_', '.'; at most 63)");
  return name;
}

export function serviceSpec(value: unknown): ServiceSpec {
  const o = object(value, "spec", ["ports", "mtls"]);
  const ports = list(o.ports, "spec.ports").map((p, i) => servicePort(p, `spec.ports[${i}]`));
  if (ports.length === 0)
    invalid(
      "spec.ports",
      "a list of at least one port",
      "spec.ports must list at least one port, e.g. [{port: 9080, protocol: http}]",
    );
  const seenPorts = new Set<number>();
  const seenNames = new Set<string>();
  ports.forEach((p, i) => {
    if (seenPorts.has(p.port))
      invalid(
        `spec.ports[${i}].port`,
        "unique ports",
        `spec.ports[${i}].port ${p.port} is listed twice; each port appears once`,
      );
    seenPorts.add(p.port);
    if (p.name !== undefined) {
      if (seenNames.has(p.name))
        invalid(
          `spec.ports[${i}].name`,
          "unique port names",
          `spec.ports[${i}].name "${p.name}" is used twice; port names are unique`,
        );
      seenNames.add(p.name);
    }
  });
  const mtls = isAbsent(o.mtls) ? undefined : oneOf(o.mtls, "spec.mtls", MTLS_MODES);
  return mtls ? { ports, mtls } : { ports };
}

function servicePort(value: unknown, field: string): ServicePortSpec {
  const o = object(value, field, ["name", "port", "protocol"]);
  const name = optionalString(o.name, `${field}.name`);
  if (name !== undefined && !/^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(name)) {
    invalid(`${field}.name`, "lower-case letters, digits and '-', at most 15");
  }
  return compact({
    name,
    port: integer(o.port, `${field}.port`, 1, 65535),
    protocol: isAbsent(o.protocol)
      ? "auto"
      : oneOf(o.protocol, `${field}.protocol`, [
          "auto",
          "http",
          "http2",
          "grpc",
          "tcp",
          "server-first",
        ] as const),
  });
}

export function routeSpec(value: unknown): RouteSpec {
  const o = object(value, "spec", ["service", "rules"]);
  const service = serviceRef(o.service, "spec.service");
  const rules = list(o.rules, "spec.rules").map((r, i) => routeRule(r, `spec.rules[${i}]`));
  if (rules.length === 0)
    invalid(
      "spec.rules",
      "a list of at least one rule",
      "spec.rules must list at least one rule (a rule without match matches every request)",
    );
  return { service, rules };
}

function routeRule(value: unknown, field: string): RouteRule {
  const o = object(value, field, [
    "match",
    "split",
    "timeoutMs",
    "retries",
    "fault",
    "headers",
    "rewrite",
    "redirect",
    "mirror",
  ]);
  const split = isAbsent(o.split) ? undefined : weightedSplit(o.split, `${field}.split`);
  const match = isAbsent(o.match) ? undefined : routeMatch(o.match, `${field}.match`);
  return compact({
    match,
    split: split && split.length > 0 ? split : undefined,
    timeoutMs: durationMs(o.timeoutMs, `${field}.timeoutMs`),
    retries: isAbsent(o.retries) ? undefined : retryPolicy(o.retries, `${field}.retries`),
    fault: isAbsent(o.fault) ? undefined : faultInjection(o.fault, `${field}.fault`),
    headers: headerModifiers(o.headers, `${field}.headers`),
    rewrite: isAbsent(o.rewrite) ? undefined : httpRewrite(o.rewrite, `${field}.rewrite`, match),
    redirect: isAbsent(o.redirect)
      ? undefined
      : httpRedirect(o.redirect, `${field}.redirect`, match, [
          ...(split && split.length > 0 ? ["split"] : []),
          ...(isAbsent(o.rewrite) ? [] : ["rewrite"]),
          ...(isAbsent(o.mirror) ? [] : ["mirror"]),
        ]),
    mirror: isAbsent(o.mirror) ? undefined : httpMirror(o.mirror, `${field}.mirror`),
  });
}

function httpMirror(value: unknown, field: string): HttpMirror {
  const o = object(value, field, ["labels", "ratio"]);
  const labels = subsetLabels(o.labels, `${field}.labels`, "the subset that gets the copies");
  const share = isAbsent(o.ratio) ? 1 : (ratio(o.ratio, `${field}.ratio`) as number);
  if (share === 0)
    invalid(
      `${field}.ratio`,
      "a share above 0",
      `${field}.ratio is 0, which copies nothing; remove the mirror`,
    );
  return { labels, ratio: share };
}

function httpRedirect(
  value: unknown,
  field: string,
  match: RouteMatch | undefined,
  alongside: string[],
): HttpRedirect {
  const o = object(value, field, ["path", "pathPrefix", "authority", "scheme", "status"]);
  const redirect = compact({
    ...rewriteFields(o, field),
    scheme: optionalString(o.scheme, `${field}.scheme`),
    status: optionalInteger(o.status, `${field}.status`, 300, 399),
  });
  const problem = redirectProblem(redirect, match?.pathPrefix);
  if (problem) invalid(field, "a redirect the sidecar can answer with", `${field}: ${problem}`);
  if (alongside.length > 0)
    invalid(
      field,
      "a redirect without split or rewrite",
      `${field}: a redirect answers the request itself, so ${alongside.join(" and ")} would never apply; remove ${alongside.length > 1 ? "them" : "it"} or the redirect`,
    );
  return redirect;
}

function httpRewrite(value: unknown, field: string, match: RouteMatch | undefined): HttpRewrite {
  const rewrite = compact(rewriteFields(object(value, field, ["path", "pathPrefix", "authority"]), field));
  const problem = rewriteProblem(rewrite, match?.pathPrefix);
  if (problem) invalid(field, "a path, pathPrefix or authority the sidecar can send", `${field}: ${problem}`);
  return rewrite;
}

/** The fields a rewrite and a redirect share. */
function rewriteFields(o: Record<string, unknown>, field: string): HttpRewrite {
  return {
    path: optionalString(o.path, `${field}.path`),
    pathPrefix: optionalString(o.pathPrefix, `${field}.pathPrefix`),
    authority: optionalString(o.authority, `${field}.authority`),
  };
}

function faultInjection(value: unknown, field: string): FaultInjection {
  const o = object(value, field, ["delayRatio", "delayMs", "abortRatio", "abortStatus"]);
  const fault = compact({
    delayRatio: ratio(o.delayRatio, `${field}.delayRatio`),
    delayMs: durationMs(o.delayMs, `${field}.delayMs`),
    abortRatio: ratio(o.abortRatio, `${field}.abortRatio`),
    abortStatus: optionalInteger(o.abortStatus, `${field}.abortStatus`, 200, 599),
  });
  if ((fault.delayRatio ?? 0) > 0 && !fault.delayMs)
    invalid(`${field}.delayMs`, "a delay above 0", `${field}.delayRatio is set; give delayMs too`);
  if ((fault.abortRatio ?? 0) > 0 && !fault.abortStatus)
    invalid(
      `${field}.abortStatus`,
      "an HTTP status (200-599)",
      `${field}.abortRatio is set; give abortStatus too, e.g. 503`,
    );
  if (!fault.delayRatio && !fault.abortRatio)
    invalid(
      field,
      "delayRatio or abortRatio above 0",
      `${field} injects nothing; set delayRatio or abortRatio`,
    );
  return fault;
}

function routeMatch(value: unknown, field: string): RouteMatch {
  const o = object(value, field, ["pathPrefix", "pathExact", "method", "headers"]);
  const pathPrefix = optionalString(o.pathPrefix, `${field}.pathPrefix`);
  const pathExact = optionalString(o.pathExact, `${field}.pathExact`);
  if (pathPrefix !== undefined && !pathPrefix.startsWith("/"))
    invalid(`${field}.pathPrefix`, "a path starting with '/'");
  if (pathExact !== undefined && !pathExact.startsWith("/"))
    invalid(`${field}.pathExact`, "a path starting with '/'");
  if (pathPrefix !== undefined && pathExact !== undefined) {
    invalid(
      `${field}.pathExact`,
      "only one of pathPrefix and pathExact",
      `${field} sets both pathPrefix and pathExact; use one`,
    );
  }
  const method = isAbsent(o.method) ? undefined : oneOf(o.method, `${field}.method`, HTTP_METHODS);
  const headers = stringMap(o.headers, `${field}.headers`, HEADER_NAME, "a lower-case HTTP header name");
  return compact({ pathPrefix, pathExact, method, headers });
}

/** Endpoint labels that select a subset: at least one, else "FIELD must select WHAT, e.g. ...". */
function subsetLabels(value: unknown, field: string, what: string): Record<string, string> {
  const labels = stringMap(value, field) ?? {};
  if (Object.keys(labels).length === 0)
    invalid(field, "at least one label", `${field} must select ${what}, e.g. {version: v2}`);
  return labels;
}

function weightedSplit(value: unknown, field: string): WeightedSubset[] {
  const subsets = list(value, field).map((s, i): WeightedSubset => {
    const f = `${field}[${i}]`;
    const o = object(s, f, ["labels", "weight"]);
    const labels = subsetLabels(o.labels, `${f}.labels`, "the subset with at least one label");
    return { labels, weight: integer(o.weight, `${f}.weight`, 0, MAX_WEIGHT) };
  });
  const keys = subsets.map((s) => JSON.stringify(Object.entries(s.labels).sort()));
  keys.forEach((k, i) => {
    if (keys.indexOf(k) !== i)
      invalid(
        `${field}[${i}].labels`,
        "a subset not already in the split",
        `${field}[${i}].labels select the same subset as ${field}[${keys.indexOf(k)}]; merge them`,
      );
  });
  if (subsets.length > 0 && subsets.every((s) => s.weight === 0)) {
    invalid(
      `${field}`,
      "at least one weight above 0",
      `${field} weights are all 0; give at least one subset a weight above 0`,
    );
  }
  return subsets;
}

function retryPolicy(value: unknown, field: string): RetryPolicy {
  const o = object(value, field, [
    "attempts",
    "perTryTimeoutMs",
    "retryOnStatus",
    "retryOnConnectFailure",
    "budgetRatio",
  ]);
  const statuses = isAbsent(o.retryOnStatus)
    ? undefined
    : list(o.retryOnStatus, `${field}.retryOnStatus`).map((s, i) =>
        integer(s, `${field}.retryOnStatus[${i}]`, 100, 599),
      );
  return compact({
    attempts: integer(o.attempts ?? 0, `${field}.attempts`, 0, 10),
    perTryTimeoutMs: durationMs(o.perTryTimeoutMs, `${field}.perTryTimeoutMs`),
    retryOnStatus: statuses,
    retryOnConnectFailure: boolean(o.retryOnConnectFailure, `${field}.retryOnConnectFailure`),
    budgetRatio: ratio(o.budgetRatio, `${field}.budgetRatio`),
  });
}

export function resiliencePolicySpec(value: unknown): ResiliencePolicySpec {
  const o = object(value, "spec", [
    "service",
    "loadBalancer",
    "consistentHash",
    "circuitBreaker",
    "outlierDetection",
    "rateLimit",
  ]);
  const service = serviceRef(o.service, "spec.service");
  const circuitBreaker = isAbsent(o.circuitBreaker)
    ? undefined
    : breaker(o.circuitBreaker, "spec.circuitBreaker");
  const outlierDetection = isAbsent(o.outlierDetection)
    ? undefined
    : outliers(o.outlierDetection, "spec.outlierDetection");
  let loadBalancer = isAbsent(o.loadBalancer)
    ? undefined
    : oneOf(o.loadBalancer, "spec.loadBalancer", LOAD_BALANCERS);
  const consistentHash = isAbsent(o.consistentHash)
    ? undefined
    : hashSource(o.consistentHash, "spec.consistentHash");
  if (consistentHash) {
    // Istio's form: a consistentHash is the balancer, with or without loadBalancer naming it.
    if (loadBalancer && loadBalancer !== "consistent_hash")
      invalid(
        "spec.loadBalancer",
        "consistent_hash or nothing beside consistentHash",
        `spec.loadBalancer is "${loadBalancer}" but spec.consistentHash is set; drop one of them`,
      );
    loadBalancer = "consistent_hash";
  } else if (loadBalancer === "consistent_hash") {
    invalid(
      "spec.consistentHash",
      "what to hash",
      "spec.loadBalancer is consistent_hash but spec.consistentHash is missing; say what to hash: " +
        "httpHeaderName, httpCookieName, httpQueryParameterName or useSourceIp: true",
    );
  }
  const limit = isAbsent(o.rateLimit) ? undefined : rateLimit(o.rateLimit, "spec.rateLimit");
  if (!circuitBreaker && !outlierDetection && !loadBalancer && !limit)
    invalid(
      "spec",
      "loadBalancer, circuitBreaker, outlierDetection or rateLimit",
      "spec sets none of loadBalancer, circuitBreaker, outlierDetection and rateLimit; set at least one",
    );
  return compact({
    service,
    loadBalancer,
    consistentHash,
    circuitBreaker,
    outlierDetection,
    rateLimit: limit,
  });
}

function hashSource(value: unknown, field: string): ConsistentHashSource {
  const o = object(value, field, [
    "httpHeaderName",
    "httpCookieName",
    "httpQueryParameterName",
    "useSourceIp",
    "generateCookie",
  ]);
  const source = compact({
    httpHeaderName: optionalString(o.httpHeaderName, `${field}.httpHeaderName`)?.toLowerCase(),
    httpCookieName: optionalString(o.httpCookieName, `${field}.httpCookieName`),
    httpQueryParameterName: optionalString(o.httpQueryParameterName, `${field}.httpQueryParameterName`),
    useSourceIp: boolean(o.useSourceIp, `${field}.useSourceIp`) || undefined,
    generateCookie: isAbsent(o.generateCookie)
      ? undefined
      : cookieToGenerate(o.generateCookie, `${field}.generateCookie`),
  });
  const problem = consistentHashProblem(source);
  if (problem) invalid(field, "exactly one hash source", `${field}: ${problem}`);
  return source;
}

/** `{}` stays: present, it asks for a session cookie on path "/". */
function cookieToGenerate(value: unknown, field: string): GenerateCookie {
  const o = object(value, field, ["path", "ttlSeconds"]);
  return compact({
    path: optionalString(o.path, `${field}.path`),
    ttlSeconds: optionalInteger(o.ttlSeconds, `${field}.ttlSeconds`, 0, MAX_COOKIE_TTL_SECONDS),
  });
}

function breaker(value: unknown, field: string): CircuitBreaker {
  const o = object(value, field, ["maxConnections", "maxPendingRequests", "maxRequestsPerConnection"]);
  return compact({
    // At least 1: on the wire 0 means "not set" (the sidecar's default of 1024), so an explicit 0
    // would silently allow 1024 rather than none.
    maxConnections: optionalInteger(o.maxConnections, `${field}.maxConnections`, 1, MAX_COUNT),
    maxPendingRequests: optionalInteger(o.maxPendingRequests, `${field}.maxPendingRequests`, 1, MAX_COUNT),
    maxRequestsPerConnection: optionalInteger(
      o.maxRequestsPerConnection,
      `${field}.maxRequestsPerConnection`,
      0,
      MAX_COUNT,
    ),
  });
}

function outliers(value: unknown, field: string): OutlierDetection {
  const known = [
    "consecutive5xx",
    "consecutiveConnectFailures",
    "intervalMs",
    "baseEjectionTimeMs",
    "maxEjectionRatio",
  ];
  const o = object(value, field, known);
  return compact({
    consecutive5xx: optionalInteger(o.consecutive5xx, `${field}.consecutive5xx`, 0, 1000),
    consecutiveConnectFailures: optionalInteger(
      o.consecutiveConnectFailures,
      `${field}.consecutiveConnectFailures`,
      0,
      1000,
    ),
    intervalMs: durationMs(o.intervalMs, `${field}.intervalMs`),
    baseEjectionTimeMs: durationMs(o.baseEjectionTimeMs, `${field}.baseEjectionTimeMs`),
    maxEjectionRatio: ratio(o.maxEjectionRatio, `${field}.maxEjectionRatio`),
  });
}
