// Request-smuggling checks on top of Node's parser (llhttp, strict mode), run before a request is
// forwarded. llhttp already refuses bad chunk sizes, Content-Length with Transfer-Encoding, bare LF
// line ends, spaces before the colon and invalid characters; these checks cover what it lets
// through and what two parsers in a row could read differently (RFC 9112 §6.3, §3.2, §5.2).
import { fieldIs, type HeaderPairs } from "./headers";

const LINE_BREAK = /[\r\n]/;

/** Why a request must be refused with 400, or undefined when it is acceptable. */
export function smugglingProblem(pairs: HeaderPairs, httpVersion: string): string | undefined {
  // Made only when a request has those fields: this runs on every request.
  let lengths: string[] | undefined;
  let encodings: string[] | undefined;
  let hosts = 0;
  for (const [name, value] of pairs) {
    if (LINE_BREAK.test(value)) return `header ${name} contains a line break (obs-fold is not accepted)`;
    if (fieldIs(name, "content-length")) {
      lengths ??= [];
      lengths.push(value);
    } else if (fieldIs(name, "transfer-encoding")) {
      encodings ??= [];
      encodings.push(value);
    } else if (fieldIs(name, "host")) hosts++;
  }
  if (lengths && encodings) {
    return "a request may not carry both Content-Length and Transfer-Encoding";
  }
  if (lengths && lengths.length > 1) return "duplicate Content-Length headers";
  const length = lengths?.[0];
  if (length !== undefined && !/^\d{1,15}$/.test(length.trim())) {
    return `Content-Length "${length}" is not a decimal number`;
  }
  if (encodings) {
    if (httpVersion === "1.0") return "Transfer-Encoding in an HTTP/1.0 request";
    const codings = encodings
      .join(",")
      .split(",")
      .map((c) => c.trim().toLowerCase());
    // Only plain "chunked": anything else leaves the length to a guess the next hop may not share.
    if (codings.length !== 1 || codings[0] !== "chunked") {
      return `Transfer-Encoding "${encodings.join(", ")}" is not accepted (only "chunked")`;
    }
  }
  // RFC 9112 §3.2: more than one Host is refused in any request (the next hop gets HTTP/1.1, where
  // the peer sidecar refused it, and the client's connection went on past a request it never saw
  // answered by the app); none only in HTTP/1.1 (an HTTP/1.0 one gets the route's, exchange.ts).
  if (hosts > 1) return "more than one Host header";
  if (httpVersion === "1.1" && hosts === 0) return "an HTTP/1.1 request needs a Host header";
  return undefined;
}
