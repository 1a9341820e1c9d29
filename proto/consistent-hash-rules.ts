// What config.proto's ConsistentHash may hold, checked on both sides of the contract (the control
// plane refuses a ResiliencePolicy that breaks it, a sidecar NACKs a push that does): Istio's
// DestinationRule loadBalancer.consistentHash (httpHeaderName, httpCookie, httpQueryParameterName,
// useSourceIp), exactly one of them.
import { HEADER_NAME } from "./header-rules";

/** As a ResiliencePolicy spells it (camelCase). */
export interface ConsistentHashSource {
  httpHeaderName?: string;
  httpCookieName?: string;
  httpQueryParameterName?: string;
  useSourceIp?: boolean;
}

/** A cookie name (RFC 6265: an HTTP token). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A query parameter's name: what can stand before '=' unescaped. */
const QUERY_NAME = /^[A-Za-z0-9\-._~!$'()*+,;:@/?%]+$/;
const MAX_NAME_LENGTH = 256;

/** Why `c` cannot be used, naming the field, or undefined when it can. */
export function consistentHashProblem(c: ConsistentHashSource): string | undefined {
  const set = (["httpHeaderName", "httpCookieName", "httpQueryParameterName", "useSourceIp"] as const).filter(
    (k) => c[k] !== undefined && c[k] !== "" && c[k] !== false,
  );
  if (set.length !== 1)
    return set.length === 0
      ? "say what to hash: one of httpHeaderName, httpCookieName, httpQueryParameterName or useSourceIp: true"
      : `hash one thing, not ${set.join(" and ")}`;
  const checks: Array<[keyof ConsistentHashSource, RegExp, string]> = [
    ["httpHeaderName", HEADER_NAME, "a lower-case HTTP header name"],
    ["httpCookieName", COOKIE_NAME, "a cookie name (letters, digits and !#$%&'*+-.^_`|~)"],
    ["httpQueryParameterName", QUERY_NAME, "a query parameter name without '=', '&', '#' or spaces"],
  ];
  for (const [key, pattern, what] of checks) {
    const v = c[key];
    if (typeof v !== "string" || v === "") continue;
    if (v.length > MAX_NAME_LENGTH) return `${key} is longer than ${MAX_NAME_LENGTH} characters`;
    if (!pattern.test(v)) return `${key} must be ${what} (got "${v}")`;
  }
  return undefined;
}
