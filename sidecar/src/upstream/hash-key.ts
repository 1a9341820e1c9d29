// The key a request is consistently hashed by (ResiliencePolicy consistentHash), read from the
// request as Istio's consistentHash reads it: a header's value, a cookie's, a query parameter's, or
// the client's address. Undefined when the request does not carry it: the balancer then balances
// it as least_request, unless the policy says to give a request without its cookie one
// (generateCookie, as Istio's httpCookie ttl): then a new value is the key, and the Set-Cookie that
// hands it to the client goes on the upstream's response.
import { randomUUID } from "node:crypto";
import { type ConsistentHashSource, setCookieValue } from "../../../proto/consistent-hash-rules";
import type { RequestInfo } from "../http/route";

export interface RequestHashKey {
  key: string;
  /** A cookie was made up for this request: the Set-Cookie header's value for the response. */
  setCookie?: string;
}

/** hashKeyOf, or a made-up cookie (`newValue`, a random UUID by default) when the policy asks for one. */
export function requestHashKey(
  source: ConsistentHashSource,
  request: RequestInfo | undefined,
  clientAddress: string | undefined,
  newValue: () => string = randomUUID,
): RequestHashKey | undefined {
  const key = hashKeyOf(source, request, clientAddress);
  const generate = source.generateCookie;
  // An empty cookie ("session=") is as good as none when the sidecar may set one (as Envoy).
  if (!request || !generate || !source.httpCookieName || (key !== undefined && key !== ""))
    return key === undefined ? undefined : { key };
  const value = newValue();
  return { key: value, setCookie: setCookieValue(source.httpCookieName, value, generate) };
}

/** `clientAddress`: the connection's peer, for an opaque TCP connection (no request). */
export function hashKeyOf(
  source: ConsistentHashSource,
  request: RequestInfo | undefined,
  clientAddress: string | undefined,
): string | undefined {
  if (source.useSourceIp) return request?.clientAddress ?? clientAddress;
  if (!request) return undefined;
  if (source.httpHeaderName) return headerValue(request, source.httpHeaderName);
  if (source.httpCookieName) return cookieValue(request, source.httpCookieName);
  if (source.httpQueryParameterName) return queryValue(request.path, source.httpQueryParameterName);
  return undefined;
}

/** The first value of a header (its name in lower case), as sent. */
function headerValue(request: RequestInfo, name: string): string | undefined {
  for (const [k, v] of request.headers) if (k.length === name.length && k.toLowerCase() === name) return v;
  return undefined;
}

/** A cookie's value from the Cookie header(s) (RFC 6265: "a=1; b=2"; h2 may send one per cookie). */
function cookieValue(request: RequestInfo, name: string): string | undefined {
  for (const [k, v] of request.headers) {
    if (k.length !== 6 || k.toLowerCase() !== "cookie") continue;
    for (const pair of v.split(";")) {
      const eq = pair.indexOf("=");
      if (eq < 0) continue;
      if (pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/** A query parameter's value (raw, as sent: the same bytes hash the same), the first if repeated. */
function queryValue(path: string, name: string): string | undefined {
  const q = path.indexOf("?");
  if (q < 0) return undefined;
  const hash = path.indexOf("#", q);
  const query = path.slice(q + 1, hash < 0 ? undefined : hash);
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === name) return eq < 0 ? "" : pair.slice(eq + 1);
  }
  return undefined;
}
