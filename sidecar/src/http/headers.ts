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

/** rawHeaders ([name, value, name, value...]) as pairs. */
export function pairsOf(raw: string[]): HeaderPairs {
  const out: HeaderPairs = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

/** The field names a message's Connection header lists (lower case). */
export function connectionTokens(pairs: HeaderPairs): Set<string> {
  const tokens = new Set<string>();
  for (const [name, value] of pairs) {
    if (name.toLowerCase() !== "connection") continue;
    for (const t of value.split(",")) if (t.trim()) tokens.add(t.trim().toLowerCase());
  }
  return tokens;
}

/** Drops hop-by-hop fields; `keep` names those to carry anyway (Upgrade for a WebSocket). */
export function endToEnd(pairs: HeaderPairs, keep: string[] = []): HeaderPairs {
  const listed = connectionTokens(pairs);
  return pairs.filter(([name]) => {
    const n = name.toLowerCase();
    if (keep.includes(n)) return true;
    return !HOP_BY_HOP.has(n) && !listed.has(n);
  });
}

export function headerValue(pairs: HeaderPairs, name: string): string | undefined {
  const found = pairs.filter(([n]) => n.toLowerCase() === name);
  return found.length === 0 ? undefined : found.map(([, v]) => v).join(", ");
}

/** Replaces every field of that name with one value (appended at the end). */
export function setHeader(pairs: HeaderPairs, name: string, value: string): HeaderPairs {
  const out = pairs.filter(([n]) => n.toLowerCase() !== name);
  out.push([name, value]);
  return out;
}

export interface ForwardFacts {
  /** This proxy's Via entry, e.g. "1.1 app (weft-outbound)". */
  via: string;
  /** The client's address to append to X-Forwarded-For; undefined leaves the field alone. */
  clientAddress?: string;
  /** X-Forwarded-Proto when the client did not set one. */
  proto: string;
}

/** The request fields to send upstream; returns them with the request id (kept or generated). */
export function forwardRequestHeaders(
  pairs: HeaderPairs,
  facts: ForwardFacts,
  keep: string[] = [],
): { headers: HeaderPairs; requestId: string } {
  let out = endToEnd(pairs, keep);
  out = setHeader(out, "via", joinValues(headerValue(out, "via"), facts.via));
  if (facts.clientAddress !== undefined) {
    const xff = joinValues(headerValue(out, "x-forwarded-for"), facts.clientAddress);
    out = setHeader(out, "x-forwarded-for", xff);
  }
  if (headerValue(out, "x-forwarded-proto") === undefined) out.push(["x-forwarded-proto", facts.proto]);
  let requestId = headerValue(out, "x-request-id");
  if (!requestId) {
    requestId = randomUuid();
    out = setHeader(out, "x-request-id", requestId);
  }
  return { headers: out, requestId };
}

/** The response fields to send back to the client. */
export function forwardResponseHeaders(pairs: HeaderPairs, via: string, keep: string[] = []): HeaderPairs {
  const out = endToEnd(pairs, keep);
  return setHeader(out, "via", joinValues(headerValue(out, "via"), via));
}

/** A flat [name, value, ...] list, as writeHead and http.request accept. */
export function flat(pairs: HeaderPairs): string[] {
  return pairs.flat();
}

function joinValues(prior: string | undefined, next: string): string {
  return prior ? `${prior}, ${next}` : next;
}

/**
 * A random (version 4) UUID from Math.random: a request id correlates log lines, it guards nothing,
 * and node:crypto would add OpenSSL's setup to every sidecar's start.
 */
export function randomUuid(): string {
  const word = () => (Math.random() * 0x1_0000_0000) >>> 0;
  const hex = (n: number, digits: number) => n.toString(16).padStart(digits, "0");
  const [a, b, c, d] = [word(), word(), word(), word()];
  const version = (b & 0xffff & 0x0fff) | 0x4000;
  const variant = ((c >>> 16) & 0x3fff) | 0x8000;
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-${hex(version, 4)}-${hex(variant, 4)}-${hex(c & 0xffff, 4)}${hex(d, 8)}`;
}
