// A Route rule's header modifiers (Istio's VirtualService `headers`, Gateway API's
// RequestHeaderModifier and ResponseHeaderModifier): names and values a sidecar can put on the wire
// as they are, and none of the fields that frame a message or belong to one hop, which the sidecar
// writes itself.
import { BAD_HEADER_VALUE, HEADER_NAME, RESERVED_HEADER_NAMES } from "../../../proto/header-rules";
import { invalid } from "./errors";
import type { HeaderModifiers, HeaderOperations } from "./types";
import { compact, isAbsent, list, object, string, stringMap } from "./validate-fields";

const MAX_VALUE_BYTES = 8 * 1024;
const MAX_NAMES = 32;

export function headerModifiers(value: unknown, field: string): HeaderModifiers | undefined {
  if (isAbsent(value)) return undefined;
  const o = object(value, field, ["request", "response"]);
  const mods = compact({
    request: headerOperations(o.request, `${field}.request`),
    response: headerOperations(o.response, `${field}.response`),
  });
  if (!mods.request && !mods.response)
    invalid(field, "request or response operations", `${field} changes nothing; give request or response`);
  return mods;
}

function headerOperations(value: unknown, field: string): HeaderOperations | undefined {
  if (isAbsent(value)) return undefined;
  const o = object(value, field, ["set", "add", "remove"]);
  const set = values(o.set, `${field}.set`);
  const add = values(o.add, `${field}.add`);
  const remove = isAbsent(o.remove)
    ? undefined
    : list(o.remove, `${field}.remove`).map((n, i) =>
        name(string(n, `${field}.remove[${i}]`), `${field}.remove[${i}]`),
      );
  const count = Object.keys(set ?? {}).length + Object.keys(add ?? {}).length + (remove?.length ?? 0);
  if (count === 0) invalid(field, "set, add or remove", `${field} changes nothing; give set, add or remove`);
  if (count > MAX_NAMES) invalid(field, `at most ${MAX_NAMES} header operations`);
  return compact({ set, add, remove: remove && remove.length > 0 ? remove : undefined });
}

function values(value: unknown, field: string): Record<string, string> | undefined {
  const map = stringMap(value, field, /^[^\s:]+$/, "an HTTP header name");
  if (!map) return undefined;
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(map)) {
    const n = name(key, `${field}.${key}`);
    if (BAD_HEADER_VALUE.test(v))
      invalid(`${field}.${key}`, "a value without control characters (CR, LF, NUL, DEL and the like)");
    if (Buffer.byteLength(v) > MAX_VALUE_BYTES)
      invalid(`${field}.${key}`, `a value of at most ${MAX_VALUE_BYTES} bytes`);
    out[n] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A header name in lower case (HTTP/2 sends them so), refused when the sidecar owns it. */
function name(raw: string, field: string): string {
  const n = raw.toLowerCase();
  if (!HEADER_NAME.test(n)) invalid(field, "an HTTP header name (letters, digits, !#$%&'*+.^_`|~-)");
  if (RESERVED_HEADER_NAMES.has(n))
    invalid(
      field,
      "a header a route may change",
      `${field}: "${n}" frames the message or belongs to one hop; the sidecar writes it`,
    );
  return n;
}
