// Which rule of a service's routes a request falls under, and which subset of endpoints its
// weighted split sends it to. Routes in order, rules in order, first match wins (as Istio's
// VirtualService); the split is drawn per request, so a new route version moves traffic at once.
import type { EndpointConfig, RouteMatchConfig, RouteRuleConfig, ServiceRoutesConfig } from "../config/types";
import type { RequestInfo } from "../http/route";

export interface MatchedRule {
  /** The route's name ("default" when nothing matched). */
  route: string;
  rule?: RouteRuleConfig;
}

/**
 * The first rule matching `request`. Without a request (an opaque TCP connection) only a rule with
 * no match conditions applies, for its split.
 */
export function matchRule(routes: ServiceRoutesConfig | undefined, request?: RequestInfo): MatchedRule {
  if (!routes) return { route: "default" };
  const path = request ? pathOnly(request.path) : "";
  for (const route of routes.routes) {
    for (const rule of route.rules) {
      if (!rule.match) return { route: route.name, rule };
      if (request && matches(rule.match, request, path)) return { route: route.name, rule };
    }
  }
  return { route: "default" };
}

function matches(m: RouteMatchConfig, request: RequestInfo, path: string): boolean {
  if (m.pathExact && path !== m.pathExact) return false;
  if (m.pathPrefix && !path.startsWith(m.pathPrefix)) return false;
  if (m.method && request.method.toUpperCase() !== m.method.toUpperCase()) return false;
  for (const [name, value] of Object.entries(m.headers)) {
    const lower = name.toLowerCase();
    if (!request.headers.some(([n, v]) => v === value && n.toLowerCase() === lower)) return false;
  }
  return true;
}

function pathOnly(path: string): string {
  const q = path.indexOf("?");
  return q === -1 ? path : path.slice(0, q);
}

export type SubsetChoice<T> = { ok: true; endpoints: T[] } | { ok: false; message: string };

/**
 * The endpoints a request goes to under `rule`'s split: all of them without a split, else one
 * subset drawn by weight among those that have endpoints (an empty subset is left out of the draw,
 * so a canary with no replicas yet does not fail its share).
 */
export function chooseSubset<T extends { endpoint: EndpointConfig }>(
  service: string,
  rule: RouteRuleConfig | undefined,
  endpoints: T[],
  random: () => number,
): SubsetChoice<T> {
  const split = rule?.split ?? [];
  if (split.length === 0) return { ok: true, endpoints };
  const live: Array<{ weight: number; endpoints: T[] }> = [];
  let total = 0;
  for (const s of split) {
    if (s.weight <= 0) continue;
    const members = endpoints.filter((e) => hasLabels(e.endpoint, s.labels));
    if (members.length === 0) continue;
    live.push({ weight: s.weight, endpoints: members });
    total += s.weight;
  }
  if (live.length === 0) {
    const subsets = split.map((s) => `{${labelText(s.labels)}}`).join(", ");
    return {
      ok: false,
      message: `no healthy endpoints of service "${service}" in the route's subsets ${subsets}; start workloads with those labels or change the Route's split\n`,
    };
  }
  let draw = random() * total;
  for (const s of live) {
    draw -= s.weight;
    if (draw < 0) return { ok: true, endpoints: s.endpoints };
  }
  return { ok: true, endpoints: live[live.length - 1]!.endpoints };
}

/**
 * The endpoint a copy of this request goes to under `rule`'s mirror: drawn by its ratio, then one
 * endpoint of the subset at random. Undefined: no mirror, not drawn, or the subset has no endpoint.
 */
export function chooseMirror<T extends { endpoint: EndpointConfig }>(
  rule: RouteRuleConfig | undefined,
  endpoints: readonly T[],
  random: () => number,
): T | undefined {
  const mirror = rule?.mirror;
  if (!mirror || !(random() < mirror.ratio)) return undefined;
  const members = endpoints.filter((e) => hasLabels(e.endpoint, mirror.labels));
  return members.length === 0 ? undefined : members[Math.floor(random() * members.length) % members.length];
}

function hasLabels(endpoint: EndpointConfig, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(labels)) if (endpoint.labels[k] !== v) return false;
  return true;
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}
