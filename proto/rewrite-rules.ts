// What config.proto's HttpRewrite and HttpRedirect may hold, checked on both sides of the contract
// (the control plane refuses a Route that breaks it, a sidecar NACKs a push that does), and how a
// sidecar applies them: Istio's VirtualService `rewrite` (uri, authority) and `redirect`, Gateway
// API's URLRewrite (ReplaceFullPath, ReplacePrefixMatch, hostname) and RequestRedirect.

/** A path as it may go on the request line: '/' first, then URI path characters (RFC 3986 pchar and
 * '/', percent-escapes), no query or fragment. */
/** A path as a request target has it: "/" and URI path characters, no query or fragment. */
export const URI_PATH = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;
/** host or host:port: a registered name or an IPv4 address, or a bracketed IPv6 address. */
const AUTHORITY = /^(?:[A-Za-z0-9\-._~]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const MAX_REWRITE_LENGTH = 1024;

export interface Rewrite {
  /** Replaces the whole path. */
  path?: string;
  /** Replaces the part of the path the rule's match.pathPrefix matched. */
  pathPrefix?: string;
  authority?: string;
}

export interface Redirect extends Rewrite {
  /** "http" or "https"; absent: "http". */
  scheme?: string;
  /** 301, 302, 303, 307 or 308; absent: 301. */
  status?: number;
}

const REDIRECT_STATUSES: readonly number[] = [301, 302, 303, 307, 308];

/** Why a rewrite cannot be applied as given, naming the field (camelCase, as a Route spells it),
 * or undefined when it can. `matchPrefix`: the rule's match.pathPrefix, if any. */
export function rewriteProblem(r: Rewrite, matchPrefix: string | undefined): string | undefined {
  for (const key of ["path", "pathPrefix"] as const) {
    const v = r[key];
    if (v === undefined) continue;
    if (v.length > MAX_REWRITE_LENGTH) return `${key} is longer than ${MAX_REWRITE_LENGTH} characters`;
    if (!URI_PATH.test(v))
      return `${key} must be a path starting with '/' without a query, fragment or spaces (got "${v}")`;
  }
  if (r.path !== undefined && r.pathPrefix !== undefined)
    return "path and pathPrefix are both set; use one (path replaces the whole path, pathPrefix the matched prefix)";
  if (r.pathPrefix !== undefined && !matchPrefix)
    return "pathPrefix replaces the prefix the rule matched, and this rule's match has no pathPrefix; add match.pathPrefix or use path";
  const a = r.authority;
  if (a !== undefined) {
    if (a.length > MAX_REWRITE_LENGTH) return `authority is longer than ${MAX_REWRITE_LENGTH} characters`;
    const port = /:([0-9]+)$/.exec(a)?.[1];
    if (!AUTHORITY.test(a) || (port !== undefined && Number(port) > 65535))
      return `authority must be host or host:port (got "${a}")`;
  }
  if (r.path === undefined && r.pathPrefix === undefined && a === undefined)
    return "it changes nothing; give path, pathPrefix or authority";
  return undefined;
}

/** As rewriteProblem, for a redirect: a scheme alone is one too (http to https); a status alone
 * would send the client back to where it was. */
export function redirectProblem(r: Redirect, matchPrefix: string | undefined): string | undefined {
  if (r.scheme !== undefined && r.scheme !== "http" && r.scheme !== "https")
    return `scheme must be http or https (got "${r.scheme}")`;
  if (r.status !== undefined && !REDIRECT_STATUSES.includes(r.status))
    return `status must be one of ${REDIRECT_STATUSES.join(", ")} (got ${r.status})`;
  if (r.path !== undefined || r.pathPrefix !== undefined || r.authority !== undefined)
    return rewriteProblem(r, matchPrefix);
  return r.scheme !== undefined
    ? undefined
    : "it sends the client back to the same URL; give path, pathPrefix, authority or scheme";
}

/** The Location a redirect answers `target` (path and query) with; relative when the request
 * named no authority and the redirect gives none. */
export function redirectLocation(
  target: string,
  authority: string,
  r: Redirect,
  matchPrefix: string | undefined,
): string {
  const path = rewriteTarget(target, r, matchPrefix);
  const host = r.authority ?? authority;
  return host ? `${r.scheme ?? "http"}://${host}${path}` : path;
}

/**
 * The request target after `r`: the path replaced whole, or its matched prefix replaced (as
 * Gateway API's ReplacePrefixMatch: a replacement ending in '/' before a rest starting with '/'
 * does not double the slash); the query string kept.
 */
export function rewriteTarget(target: string, r: Rewrite, matchPrefix: string | undefined): string {
  if (r.path === undefined && r.pathPrefix === undefined) return target;
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? "" : target.slice(q);
  let next: string;
  if (r.path !== undefined) next = r.path;
  else if (matchPrefix && path.startsWith(matchPrefix)) {
    const rest = path.slice(matchPrefix.length);
    const head = r.pathPrefix as string;
    next = head.endsWith("/") && rest.startsWith("/") ? head + rest.slice(1) : head + rest;
  } else return target;
  return next + query;
}
