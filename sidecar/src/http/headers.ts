// Header rewriting for a forwarded HTTP message (RFC 9110 §7.6): hop-by-hop fields are dropped
// (the fixed list and every field the Connection header names), Via is appended, and requests get
// X-Forwarded-For / X-Forwarded-Proto / X-Request-Id. Works on rawHeaders pairs, so names keep
// their case and repeated fields (Set-Cookie) stay separate.
/** Always hop-by-hop (RFC 9110 §7.6.1), plus the legacy fields proxies must not forward. */
const HOP_BY_HOP = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "te",
  "transfer-encoding",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
]);

export type HeaderPairs = Array<[string, string]>;

/** Field names are compared on every request: when the lengths differ, or the name is already in
 * lower case, this allocates nothing (`toLowerCase` makes a new string for "Content-Length"). */
export function fieldIs(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower);
}

/** The lengths of the hop-by-hop names: a field of another length is end-to-end unless Connection
 * lists it, without lower-casing its name. */
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP].map((n) => n.length));

/** No Connection header, or one that lists nothing: shared, never written to. */
const NO_TOKENS: ReadonlySet<string> = new Set();

/** The field names a message's Connection header lists (lower case), less those dropped anyway:
 * the common `Connection: keep-alive` lists nothing else to drop. */
export function connectionTokens(pairs: HeaderPairs): ReadonlySet<string> {
  let tokens: Set<string> | undefined;
  for (const [name, value] of pairs) if (fieldIs(name, "connection")) tokens = addTokens(value, tokens);
  return tokens ?? NO_TOKENS;
}

/** connectionTokens of a flat [name, value, ...] list. */
export function connectionTokensOfList(flatList: readonly string[]): ReadonlySet<string> {
  let tokens: Set<string> | undefined;
  for (let i = 0; i + 1 < flatList.length; i += 2) {
    if (fieldIs(flatList[i] as string, "connection")) tokens = addTokens(flatList[i + 1] as string, tokens);
  }
  return tokens ?? NO_TOKENS;
}

function addTokens(value: string, tokens: Set<string> | undefined): Set<string> | undefined {
  if (fieldIs(value, "keep-alive")) return tokens;
  for (const t of value.split(",")) {
    const token = t.trim().toLowerCase();
    if (!token || HOP_BY_HOP.has(token)) continue;
    tokens ??= new Set();
    tokens.add(token);
  }
  return tokens;
}

/** Whether a field goes on to the next hop: not hop-by-hop, not listed by Connection, or kept. */
export function isEndToEnd(name: string, listed: ReadonlySet<string>, keep: readonly string[]): boolean {
  if (listed.size === 0 && !HOP_BY_HOP_LENGTHS.has(name.length)) return true;
  const n = name.toLowerCase();
  return keep.includes(n) || (!HOP_BY_HOP.has(n) && !listed.has(n));
}

/** Drops hop-by-hop fields; `keep` names those to carry anyway (Upgrade for a WebSocket). */
export function endToEnd(pairs: HeaderPairs, keep: readonly string[] = []): HeaderPairs {
  const listed = connectionTokens(pairs);
  const out: HeaderPairs = [];
  for (const pair of pairs) if (isEndToEnd(pair[0], listed, keep)) out.push(pair);
  return out;
}

/** The field's value, repeated fields joined with ", "; `name` in lower case. Runs several times per
 * request, so it allocates nothing unless the field repeats. */
export function headerValue(pairs: HeaderPairs, name: string): string | undefined {
  let value: string | undefined;
  for (const [n, v] of pairs) {
    if (!fieldIs(n, name)) continue;
    value = value === undefined ? v : `${value}, ${v}`;
  }
  return value;
}

/** Replaces every field of that name (lower case) with one value, appended at the end; in place. */
function putHeader(pairs: HeaderPairs, name: string, value: string): void {
  removeHeader(pairs, name);
  pairs.push([name, value]);
}

/** Removes every field of that name (lower case); in place. */
function removeHeader(pairs: HeaderPairs, name: string): void {
  let kept = 0;
  for (const pair of pairs) {
    if (!fieldIs(pair[0], name)) pairs[kept++] = pair;
  }
  pairs.length = kept;
}

/**
 * A route's authority rewrite: the first Host field takes `authority` where it stands, later ones
 * go; without one, Host is put first when `add` (HTTP/1.1 needs it), else nothing changes. In place.
 */
export function rewriteHost(pairs: HeaderPairs, authority: string, add: boolean): void {
  let kept = 0;
  let done = false;
  for (const pair of pairs) {
    if (!fieldIs(pair[0], "host")) pairs[kept++] = pair;
    else if (!done) {
      pairs[kept++] = [pair[0], authority];
      done = true;
    }
  }
  pairs.length = kept;
  if (!done && add) pairs.unshift(["host", authority]);
}

export interface ForwardFacts {
  /** This proxy's Via entry, e.g. "1.1 app (weft-outbound)". */
  via: string;
  /** The client's address to append to X-Forwarded-For; undefined leaves the field alone. */
  clientAddress?: string;
  /** X-Forwarded-Proto when the client did not set one. */
  proto: string;
  /**
   * Inbound only: the caller's identity for X-Forwarded-Client-Cert ("URI=spiffe://..."), as Envoy
   * sets it for the app; "" when the caller is not a mesh peer. Either way a client's own
   * X-Forwarded-Client-Cert is removed first, so an app can trust the one it gets. Outbound:
   * undefined, the field passes as it is.
   */
  peerIdentity?: string;
}

/** The request fields to send upstream; returns them with the request id (kept or generated). */
export function forwardRequestHeaders(
  pairs: HeaderPairs,
  facts: ForwardFacts,
  keep: string[] = [],
): { headers: HeaderPairs; requestId: string } {
  const out = endToEnd(pairs, keep);
  putHeader(out, "via", joinValues(headerValue(out, "via"), facts.via));
  if (facts.clientAddress !== undefined) {
    const xff = joinValues(headerValue(out, "x-forwarded-for"), facts.clientAddress);
    putHeader(out, "x-forwarded-for", xff);
  }
  if (headerValue(out, "x-forwarded-proto") === undefined) out.push(["x-forwarded-proto", facts.proto]);
  if (facts.peerIdentity) putHeader(out, "x-forwarded-client-cert", `URI=${facts.peerIdentity}`);
  else if (facts.peerIdentity === "") removeHeader(out, "x-forwarded-client-cert");
  let requestId = headerValue(out, "x-request-id");
  if (!requestId) {
    requestId = randomUuid();
    putHeader(out, "x-request-id", requestId);
  }
  return { headers: out, requestId };
}

/**
 * The response fields to send back to the client, as `name: value\r\n` lines with Via last. Reads
 * the flat [name, value, ...] list the parser gives, without pairing it: this runs for every
 * response.
 */
export function forwardResponseLines(
  flatList: readonly string[],
  via: string,
  keep: readonly string[] = [],
): string {
  const listed = connectionTokensOfList(flatList);
  let lines = "";
  let prior: string | undefined;
  for (let i = 0; i + 1 < flatList.length; i += 2) {
    const n = flatList[i] as string;
    if (!isEndToEnd(n, listed, keep)) continue;
    const v = flatList[i + 1] as string;
    if (fieldIs(n, "via")) prior = prior === undefined ? v : `${prior}, ${v}`;
    else lines += `${n}: ${v}\r\n`;
  }
  return `${lines}via: ${joinValues(prior, via)}\r\n`;
}

/** A flat [name, value, ...] list, as writeHead and http.request accept. */
export function flat(pairs: HeaderPairs): string[] {
  return pairs.flat();
}

function joinValues(prior: string | undefined, next: string): string {
  return prior ? `${prior}, ${next}` : next;
}

/** The UUID's layout: x a random hex digit, 4 the version, y the variant (8, 9, a or b). */
const UUID_LAYOUT = Buffer.from("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "latin1");
const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");
const uuidScratch = Buffer.allocUnsafeSlow(36);

/**
 * A random (version 4) UUID from Math.random: a request id correlates log lines, it guards nothing,
 * and node:crypto would add OpenSSL's setup to every sidecar's start. Written digit by digit into
 * one scratch buffer and read out as one string: formatting each group with toString(16) and
 * padStart made a dozen short-lived strings per request.
 */
export function randomUuid(): string {
  let word = 0;
  let digits = 0;
  for (let i = 0; i < 36; i++) {
    const c = UUID_LAYOUT[i] as number;
    if (c !== 0x78 && c !== 0x79) {
      uuidScratch[i] = c; // "-" or the version's "4"
      continue;
    }
    if ((digits & 7) === 0) word = (Math.random() * 0x1_0000_0000) >>> 0;
    const nibble = (word >>> ((digits & 7) << 2)) & 15;
    digits++;
    uuidScratch[i] = HEX_DIGITS[c === 0x78 ? nibble : 8 | (nibble & 3)] as number;
  }
  return uuidScratch.toString("latin1", 0, 36);
}
