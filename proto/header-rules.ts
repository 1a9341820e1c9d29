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
  "content-length",
  "host",
  "traceparent",
  "tracestate",
]);

/** CR, LF and NUL end or break a field on HTTP/1.1. */
export const BAD_HEADER_VALUE = /[\r\n\0]/;
