// How `weft get` and `weft history` print config: kubectl-like tables with a summary per kind, and
// JSON or YAML that can be edited and applied again.

import { stringify } from "yaml";
import type { AuthorizationRuleSpec, AuthorizationSpec } from "../../proto/authorization-rules";
import type { ConsistentHashSource } from "../../proto/consistent-hash-rules";
import type { RateLimitSpec } from "../../proto/rate-limit-rules";
import type {
  ConfigKind,
  ConfigObject,
  ResiliencePolicySpec,
  RouteRule,
  RouteSpec,
  ServiceSpec,
  TelemetrySpec,
} from "./config/index";

/** Extra table columns per kind, after NAME (and before VERSION, AGE). */
export const SUMMARY_HEADERS: Record<ConfigKind, string[]> = {
  Service: ["ports", "mtls"],
  Route: ["service", "rules"],
  ResiliencePolicy: ["service", "settings"],
  Telemetry: ["service", "settings"],
  AuthorizationPolicy: ["service", "rules"],
};

export function summaryCells(kind: ConfigKind, spec: unknown): string[] {
  switch (kind) {
    case "Service":
      return [
        (spec as ServiceSpec).ports.map((p) => `${p.port}/${p.protocol}`).join(","),
        // Absent: the control plane's --mtls-mode applies.
        (spec as ServiceSpec).mtls ?? "<default>",
      ];
    case "Route": {
      const r = spec as RouteSpec;
      return [r.service, r.rules.map(ruleSummary).join("; ")];
    }
    case "ResiliencePolicy": {
      const p = spec as ResiliencePolicySpec;
      const cb = p.circuitBreaker ?? {};
      const od = p.outlierDetection ?? {};
      const ch = p.consistentHash;
      return [
        p.service,
        settings({
          lb: p.loadBalancer,
          hash: ch && hashSummary(ch),
          maxConn: cb.maxConnections,
          maxPending: cb.maxPendingRequests,
          maxReqPerConn: cb.maxRequestsPerConnection,
          eject5xx: od.consecutive5xx,
          ejectConnFail: od.consecutiveConnectFailures,
          ejectMs: od.baseEjectionTimeMs,
          maxEjected:
            od.maxEjectionRatio === undefined ? undefined : `${Math.round(od.maxEjectionRatio * 100)}%`,
          rateLimit: p.rateLimit && rateLimitSummary(p.rateLimit),
        }),
      ];
    }
    case "Telemetry": {
      const t = spec as TelemetrySpec;
      const parts: string[] = [];
      if (t.tracing)
        parts.push(
          `tracing ${t.tracing.enabled === false ? "off" : `${Math.round((t.tracing.samplingRatio ?? 1) * 100)}%`}`,
        );
      if (t.logging)
        parts.push(`logging ${t.logging.level ?? "info"}${t.logging.accessLog ? " +access" : ""}`);
      return [t.service ?? "*", parts.join(", ") || "-"];
    }
    case "AuthorizationPolicy": {
      const a = spec as AuthorizationSpec;
      return [
        a.service,
        [...a.rules.map(authorizationRuleSummary), `else ${a.defaultAction ?? "DENY"}`].join("; "),
      ];
    }
  }
}

/** "ALLOW front,checkout GET /api*": the action, who, then what (when the rule says). */
function authorizationRuleSummary(r: AuthorizationRuleSpec): string {
  const who = r.from?.length ? r.from.join(",") : "anyone";
  const what = [r.methods?.join(","), r.pathExact ?? (r.pathPrefix ? `${r.pathPrefix}*` : undefined)];
  return [r.action, who, ...what].filter(Boolean).join(" ");
}

function ruleSummary(rule: RouteRule): string {
  const m = rule.match;
  const match = m
    ? [
        m.method,
        m.pathExact ?? (m.pathPrefix ? `${m.pathPrefix}*` : undefined),
        ...Object.entries(m.headers ?? {}).map(([k, v]) => `${k}=${v}`),
      ]
        .filter(Boolean)
        .join(" ")
    : "*";
  const split = rule.split ? rule.split.map((s) => `${labelList(s.labels)}:${s.weight}`).join(" ") : "all";
  const redirect = rule.redirect;
  if (redirect) {
    const to = redirect.path ?? (redirect.pathPrefix ? `${redirect.pathPrefix}*` : "");
    const where = redirect.authority
      ? `${redirect.scheme ?? "http"}://${redirect.authority}${to}`
      : [redirect.scheme && `${redirect.scheme}:`, to].filter(Boolean).join(" ");
    return `${match} -> redirect ${redirect.status ?? 301}${where ? ` ${where}` : ""}`;
  }
  const rewrite = rule.rewrite;
  const rewritten = rewrite
    ? ` (rewrite ${[rewrite.authority, rewrite.path ?? (rewrite.pathPrefix ? `${rewrite.pathPrefix}*` : undefined)].filter(Boolean).join("")})`
    : "";
  const mirror = rule.mirror
    ? ` (mirror ${labelList(rule.mirror.labels)}${rule.mirror.ratio < 1 ? ` ${Math.round(rule.mirror.ratio * 1000) / 10}%` : ""})`
    : "";
  return `${match} -> ${split}${rewritten}${mirror}`;
}

function labelList(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** What a consistent hash reads: header:x-user, cookie:session (+set,1h when the sidecar sets it
 * on requests without it; +set,session for a session cookie), query:user, source-ip. */
function hashSummary(c: ConsistentHashSource): string {
  if (c.httpHeaderName) return `header:${c.httpHeaderName}`;
  if (c.httpCookieName) {
    const g = c.generateCookie;
    if (!g) return `cookie:${c.httpCookieName}`;
    const path = g.path && g.path !== "/" ? `,path=${g.path}` : "";
    return `cookie:${c.httpCookieName}(set,${g.ttlSeconds ? duration(g.ttlSeconds) : "session"}${path})`;
  }
  if (c.httpQueryParameterName) return `query:${c.httpQueryParameterName}`;
  return "source-ip";
}

/** Seconds as the largest whole unit: 90s, 30m, 12h, 7d. */
function duration(seconds: number): string {
  for (const [unit, n] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
  ] as const)
    if (seconds % n === 0) return `${seconds / n}${unit}`;
  return `${seconds}s`;
}

/** Requests per second per instance, a burst in brackets: 100/s(200),/api*[POST]:10/s,/healthz:off. */
function rateLimitSummary(r: RateLimitSpec): string {
  const rate = (rps: number, burst: number | undefined) =>
    rps === 0 ? "off" : `${rps}/s${burst && burst !== rps ? `(${burst})` : ""}`;
  const parts = r.requestsPerSecond ? [rate(r.requestsPerSecond, r.burst)] : [];
  for (const route of r.routes ?? []) {
    const path = route.pathExact ?? `${route.pathPrefix}*`;
    parts.push(
      `${path}${route.method ? `[${route.method}]` : ""}:${rate(route.requestsPerSecond, route.burst)}`,
    );
  }
  return parts.join(",");
}

function settings(values: Record<string, unknown>): string {
  return (
    Object.entries(values)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ") || "-"
  );
}

/** kubectl's age: 45s, 3m, 5h, 2d. */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function objectRow(o: ConfigObject): string[] {
  return [
    o.metadata.name,
    ...summaryCells(o.kind, o.spec),
    String(o.metadata.version),
    age(o.metadata.updatedAt),
  ];
}

/** Objects as YAML documents separated by '---', ready for `weft apply -f`. */
export function toYaml(items: unknown[]): string {
  return items.map((o) => stringify(o)).join("---\n");
}
