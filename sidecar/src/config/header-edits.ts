// A Route rule's header modifiers as the sidecar applies them (config.proto HeaderModifiers):
// checked where they arrive (a bad one is a NACK naming the field; the sidecar keeps its last good
// config), then applied to a request's or a response's fields in the order the proto gives:
// remove, set (replacing every value of the name), add (appending). An `add` to a field that allows
// one value (User-Agent, Content-Type, Authorization, ...) which the message already has joins the
// two with ", " in that one field, as Istio documents for `add` ("a comma-separated list") and
// Envoy does: a second field line of such a name is refused by node:http2 outright, and dropped by
// node's HTTP/1.1 parser and many others, so the added value would fail the request or vanish.
import { BAD_HEADER_VALUE, HEADER_NAME, RESERVED_HEADER_NAMES } from "../../../proto/header-rules";
import type { HeaderPairs } from "../http/headers";
import { bad, labels, object, str } from "./validate";

export interface HeaderEdits {
  /** Lower-case names whose every value goes. */
  remove: string[];
  set: Array<[string, string]>;
  add: Array<[string, string]>;
}

export interface HeaderModifiersConfig {
  request?: HeaderEdits;
  response?: HeaderEdits;
}

/** The wire's HeaderModifiers (snake_case, as decoded), or undefined when it changes nothing. */
export function parseHeaderModifiers(value: unknown, path: string): HeaderModifiersConfig | undefined {
  if (value === undefined || value === null) return undefined;
  const o = object(value, path);
  const request = parseEdits(o.request, `${path}.request`);
  const response = parseEdits(o.response, `${path}.response`);
  if (!request && !response) return undefined;
  return { ...(request ? { request } : {}), ...(response ? { response } : {}) };
}

function parseEdits(value: unknown, path: string): HeaderEdits | undefined {
  if (value === undefined || value === null) return undefined;
  const o = object(value, path);
  const pairs = (v: unknown, p: string): Array<[string, string]> =>
    Object.entries(labels(v, p)).map(([n, text]) => {
      if (BAD_HEADER_VALUE.test(text))
        bad(`${p}.${n} must not hold control characters (CR, LF, NUL, DEL and the like)`);
      return [checkName(n, `${p}.${n}`), text];
    });
  const remove = o.remove === undefined || o.remove === null ? [] : o.remove;
  if (!Array.isArray(remove)) bad(`${path}.remove must be a list`);
  const edits: HeaderEdits = {
    remove: remove.map((n, i) => checkName(str(n, `${path}.remove[${i}]`), `${path}.remove[${i}]`)),
    set: pairs(o.set, `${path}.set`),
    add: pairs(o.add, `${path}.add`),
  };
  return edits.remove.length + edits.set.length + edits.add.length > 0 ? edits : undefined;
}

function checkName(raw: string, path: string): string {
  const n = raw.toLowerCase();
  if (!HEADER_NAME.test(n)) bad(`${path}: "${raw}" is not an HTTP header name`);
  if (RESERVED_HEADER_NAMES.has(n)) bad(`${path}: "${n}" is the sidecar's to write, not a route's`);
  return n;
}

/**
 * The fields node:http2 refuses a second value of (its kSingleValueHeaders, pseudo-headers aside):
 * header-edits.test.ts checks this list against node:http2 itself.
 */
export const SINGLE_VALUE_FIELDS: ReadonlySet<string> = new Set([
  "access-control-allow-credentials",
  "access-control-max-age",
  "access-control-request-method",
  "age",
  "authorization",
  "content-encoding",
  "content-language",
  "content-length",
  "content-location",
  "content-md5",
  "content-range",
  "content-type",
  "date",
  "dnt",
  "etag",
  "expires",
  "from",
  "host",
  "if-match",
  "if-modified-since",
  "if-none-match",
  "if-range",
  "if-unmodified-since",
  "last-modified",
  "location",
  "max-forwards",
  "proxy-authorization",
  "range",
  "referer",
  "retry-after",
  "tk",
  "upgrade-insecure-requests",
  "user-agent",
  "x-content-type-options",
]);

/** `headers` with the edits made (a new list; names compared without case). */
export function applyHeaderEdits(headers: HeaderPairs, edits: HeaderEdits): HeaderPairs {
  const drop = new Set(edits.remove);
  for (const [n] of edits.set) drop.add(n);
  const out: HeaderPairs = headers.filter(([n]) => !drop.has(n.toLowerCase()));
  for (const pair of edits.set) out.push([pair[0], pair[1]]);
  for (const [n, v] of edits.add) {
    const at = SINGLE_VALUE_FIELDS.has(n) ? out.findIndex((f) => f[0].toLowerCase() === n) : -1;
    const prior = out[at];
    // A new pair: the one replaced may be the caller's.
    if (prior) out[at] = [prior[0], joined(prior[1], v)];
    else out.push([n, v]);
  }
  return out;
}

/** The same for a head as llhttp gives it: [name, value, name, value, ...]. */
export function applyHeaderEditsFlat(flat: string[], edits: HeaderEdits): string[] {
  const drop = new Set(edits.remove);
  for (const [n] of edits.set) drop.add(n);
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i] as string;
    if (!drop.has(n.toLowerCase())) out.push(n, flat[i + 1] as string);
  }
  for (const [n, v] of edits.set) out.push(n, v);
  for (const [n, v] of edits.add) {
    let at = -1;
    if (SINGLE_VALUE_FIELDS.has(n))
      for (let i = 0; i < out.length && at < 0; i += 2)
        if ((out[i] as string).toLowerCase() === n) at = i + 1;
    if (at >= 0) out[at] = joined(out[at] as string, v);
    else out.push(n, v);
  }
  return out;
}

/** An added value after the one a single-value field holds (an empty one is replaced). */
export function joined(prior: string, added: string): string {
  return prior === "" ? added : `${prior}, ${added}`;
}
