// Request-smuggling checks on top of Node's parser (llhttp, strict mode), run before a request is
// forwarded. llhttp already refuses bad chunk sizes, Content-Length with Transfer-Encoding, bare LF
// line ends, spaces before the colon and invalid characters; these checks cover what it lets
// through and what two parsers in a row could read differently (RFC 9112 §6.3, §3.2, §5.2).
import type { HeaderPairs } from "./headers";

/** Why a request must be refused with 400, or undefined when it is acceptable. */
export function smugglingProblem(pairs: HeaderPairs, httpVersion: string): string | undefined {
  const lengths: string[] = [];
  const encodings: string[] = [];
  let hosts = 0;
  for (const [name, value] of pairs) {
    const n = name.toLowerCase();
    if (/[\r\n]/.test(value)) return `header ${name} contains a line break (obs-fold is not accepted)`;
    if (n === "content-length") lengths.push(value);
    else if (n === "transfer-encoding") encodings.push(value);
    else if (n === "host") hosts++;
  }
  if (lengths.length > 0 && encodings.length > 0) {
    return "a request may not carry both Content-Length and Transfer-Encoding";
  }
  if (lengths.length > 1) return "duplicate Content-Length headers";
  const length = lengths[0];
  if (length !== undefined && !/^\d{1,15}$/.test(length.trim())) {
    return `Content-Length "${length}" is not a decimal number`;
  }
  if (encodings.length > 0) {
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
  if (httpVersion === "1.1" && hosts !== 1) {
    return hosts === 0 ? "an HTTP/1.1 request needs a Host header" : "more than one Host header";
  }
  return undefined;
}
