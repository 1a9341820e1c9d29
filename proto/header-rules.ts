// What config.proto's HeaderOperations may name, checked on both sides of the contract: the control
// plane refuses a Route that breaks it (with the field and a reason), and a sidecar NACKs a push
// that does (a control plane of another version, a hand-made push). Framing, hop-by-hop, host and
// trace-context fields are the sidecar's to write.

/** A field name as HTTP/2 sends it: a token in lower case. */
export const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "http2-settings",
  "content-length",
  "host",
  "traceparent",
  "tracestate",
]);

/** Control characters other than HTAB (RFC 9110 §5.5): CR, LF and NUL end or break a field on
 * HTTP/1.1, and node:http2 refuses to send a head holding any of them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
export const BAD_HEADER_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;
