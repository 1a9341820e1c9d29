// ResiliencePolicy spec.rateLimit, checked field by field; what the fields may hold together is in
// proto/rate-limit-rules.ts, which the sidecars check too.
import {
  MAX_BURST,
  MAX_RATE,
  type RateLimitSpec,
  type RouteRateLimitSpec,
  rateLimitProblem,
} from "../../../proto/rate-limit-rules";
import { invalid } from "./errors";
import { compact, integer, isAbsent, list, object, optionalInteger, optionalString } from "./validate-fields";

export function rateLimit(value: unknown, field: string): RateLimitSpec {
  const o = object(value, field, ["requestsPerSecond", "burst", "routes"]);
  const spec = compact({
    requestsPerSecond: optionalInteger(o.requestsPerSecond, `${field}.requestsPerSecond`, 0, MAX_RATE),
    burst: optionalInteger(o.burst, `${field}.burst`, 0, MAX_BURST),
    routes: isAbsent(o.routes)
      ? undefined
      : list(o.routes, `${field}.routes`).map((r, i) => routeLimit(r, `${field}.routes[${i}]`)),
  });
  const problem = rateLimitProblem(spec);
  if (problem) invalid(field, "a rate for every request, for some routes, or both", `${field}: ${problem}`);
  return spec;
}

function routeLimit(value: unknown, field: string): RouteRateLimitSpec {
  const o = object(value, field, ["pathPrefix", "pathExact", "method", "requestsPerSecond", "burst"]);
  return compact({
    pathPrefix: optionalString(o.pathPrefix, `${field}.pathPrefix`),
    pathExact: optionalString(o.pathExact, `${field}.pathExact`),
    method: optionalString(o.method, `${field}.method`)?.toUpperCase(),
    requestsPerSecond: integer(o.requestsPerSecond, `${field}.requestsPerSecond`, 0, MAX_RATE),
    burst: optionalInteger(o.burst, `${field}.burst`, 0, MAX_BURST),
  });
}
