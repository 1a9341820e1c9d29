// What config.proto's RateLimit may hold, checked on both sides of the contract (the control plane
// refuses a ResiliencePolicy that breaks it, a sidecar NACKs a push that does), and the one decision
// both need: which bucket a request counts against. Consul's instance-level rate limits (a rate, a
// burst, routes by path) and Envoy's local rate limit: token buckets kept by each instance's sidecar.

import { URI_PATH } from "./rewrite-rules";

/** As a ResiliencePolicy spells it (camelCase). */
export interface RateLimitSpec {
  /** For requests no route matches; 0 or absent: those are not limited. */
  requestsPerSecond?: number;
  /** The bucket's size; 0 or absent: requestsPerSecond. */
  burst?: number;
  routes?: RouteRateLimitSpec[];
}

export interface RouteRateLimitSpec {
  pathPrefix?: string;
  pathExact?: string;
  /** Upper case; absent: any method. */
  method?: string;
  /** 0: the route's requests are not limited at all (a health check kept out of the instance's). */
  requestsPerSecond: number;
  burst?: number;
}

export const MAX_RATE = 1_000_000;
export const MAX_BURST = 10_000_000;
export const MAX_RATE_LIMIT_ROUTES = 64;
const MAX_PATH_LENGTH = 1024;
/** An HTTP method token, upper case as rate limits compare it. */
const METHOD = /^[A-Z][A-Z0-9_-]{0,19}$/;

function wholeIn(n: number | undefined, max: number): boolean {
  return n === undefined || (Number.isInteger(n) && n >= 0 && n <= max);
}

/** What is wrong with a rate limit, or undefined. */
export function rateLimitProblem(r: RateLimitSpec): string | undefined {
  const rate = r.requestsPerSecond ?? 0;
  const routes = r.routes ?? [];
  if (!wholeIn(rate, MAX_RATE))
    return `requestsPerSecond must be a whole number from 0 to ${MAX_RATE}, got ${r.requestsPerSecond}`;
  if (!wholeIn(r.burst, MAX_BURST))
    return `burst must be a whole number from 0 to ${MAX_BURST}, got ${r.burst}`;
  if (rate === 0 && (r.burst ?? 0) > 0)
    return "burst goes with requestsPerSecond: it is the size of that bucket";
  if (rate === 0 && routes.length === 0)
    return "it limits nothing: set requestsPerSecond (every request), routes (some paths), or both";
  if (routes.length > MAX_RATE_LIMIT_ROUTES)
    return `at most ${MAX_RATE_LIMIT_ROUTES} routes, got ${routes.length}`;
  for (const [i, route] of routes.entries()) {
    const problem = routeProblem(route);
    if (problem) return `routes[${i}]: ${problem}`;
  }
  return undefined;
}

function routeProblem(r: RouteRateLimitSpec): string | undefined {
  if ((r.pathPrefix === undefined) === (r.pathExact === undefined))
    return "set exactly one of pathPrefix and pathExact";
  const path = (r.pathPrefix ?? r.pathExact) as string;
  if (path.length > MAX_PATH_LENGTH) return `the path is longer than ${MAX_PATH_LENGTH} characters`;
  if (!URI_PATH.test(path))
    return `the path must start with "/" and hold only URI path characters, no query (got "${path}")`;
  if (r.method !== undefined && !METHOD.test(r.method))
    return `method must be an upper-case HTTP method such as GET or POST (got "${r.method}")`;
  if (!wholeIn(r.requestsPerSecond, MAX_RATE))
    return `requestsPerSecond must be a whole number from 0 (not limited) to ${MAX_RATE}, got ${r.requestsPerSecond}`;
  if (!wholeIn(r.burst, MAX_BURST))
    return `burst must be a whole number from 0 to ${MAX_BURST}, got ${r.burst}`;
  if (r.requestsPerSecond === 0 && (r.burst ?? 0) > 0)
    return "burst goes with requestsPerSecond; a route with 0 is not limited";
  return undefined;
}

/** The index of the first route whose match fits (path without its query), or -1 for the instance's. */
export function matchingRoute(routes: readonly RouteRateLimitSpec[], method: string, path: string): number {
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i] as RouteRateLimitSpec;
    if (r.method !== undefined && r.method !== method) continue;
    if (r.pathExact !== undefined ? path === r.pathExact : path.startsWith(r.pathPrefix as string)) return i;
  }
  return -1;
}
