// What config.proto's ConsistentHash may hold, checked on both sides of the contract (the control
// plane refuses a ResiliencePolicy that breaks it, a sidecar NACKs a push that does): Istio's
// DestinationRule loadBalancer.consistentHash (httpHeaderName, httpCookie, httpQueryParameterName,
// useSourceIp), exactly one of them; with a cookie, generateCookie (Istio's httpCookie path and ttl).
import { HEADER_NAME } from "./header-rules";

/** As a ResiliencePolicy spells it (camelCase). */
export interface ConsistentHashSource {
  httpHeaderName?: string;
  httpCookieName?: string;
  httpQueryParameterName?: string;
  useSourceIp?: boolean;
  /** With httpCookieName: a request without the cookie is given one (config.proto GenerateCookie). */
  generateCookie?: GenerateCookie;
}

export interface GenerateCookie {
  /** The cookie's Path; absent or "" is "/". */
  path?: string;
  /** Its Max-Age in seconds; 0 or absent: a session cookie. */
  ttlSeconds?: number;
}

/** RFC 6265bis caps a cookie's lifetime at 400 days; a browser shortens a longer Max-Age. */
export const MAX_COOKIE_TTL_SECONDS = 400 * 24 * 3600;
/** A cookie's Path: starts with "/", no controls and no ";" (RFC 6265 path-value). */
function cookiePathOk(path: string): boolean {
  if (path.charCodeAt(0) !== 47) return false; // "/"
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 59) return false; // controls, ";"
  }
  return true;
}
const MAX_COOKIE_PATH_LENGTH = 1024;

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
  const g = c.generateCookie;
  if (g === undefined) return undefined;
  if (!c.httpCookieName) return "generateCookie goes with httpCookieName: it says how to set that cookie";
  const ttl = g.ttlSeconds ?? 0;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_COOKIE_TTL_SECONDS)
    return `generateCookie.ttlSeconds must be a whole number of seconds from 0 (a session cookie) to ${MAX_COOKIE_TTL_SECONDS} (400 days), got ${ttl}`;
  const path = g.path ?? "";
  if (path.length > MAX_COOKIE_PATH_LENGTH)
    return `generateCookie.path is longer than ${MAX_COOKIE_PATH_LENGTH} characters`;
  if (path !== "" && !cookiePathOk(path))
    return `generateCookie.path must start with "/" and hold no ";" or control characters (got "${path}")`;
  return undefined;
}

/** The Set-Cookie value a sidecar sends for a cookie it made up (HttpOnly, as Envoy's). */
export function setCookieValue(name: string, value: string, g: GenerateCookie): string {
  const ttl = g.ttlSeconds ?? 0;
  return `${name}=${value}; Path=${g.path || "/"}${ttl > 0 ? `; Max-Age=${ttl}` : ""}; HttpOnly`;
}
