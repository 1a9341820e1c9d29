// The request id the sidecar adds when a request has none: a well-formed version 4 UUID, never the
// same twice in practice (it correlates log lines and traces across hops).
import test from "ava";
import { forwardRequestHeaders, forwardResponseLines, headerValue, randomUuid } from "./headers";

test("request ids are RFC 4122 version 4 UUIDs and do not repeat", (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const id = randomUuid();
    t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  t.is(seen.size, 20_000);
});

test("forwarded headers: hop-by-hop and Connection-listed fields dropped whatever their case, Via appended, ids kept", (t) => {
  const { headers, requestId } = forwardRequestHeaders(
    [
      ["Host", "web"],
      ["Connection", "Keep-Alive, X-Secret"],
      ["Keep-Alive", "timeout=5"],
      ["X-Secret", "hop"],
      ["TE", "trailers"],
      ["Via", "1.1 edge"],
      ["X-Request-Id", "abc"],
      ["Accept", "a"],
      ["accept", "b"],
    ],
    { via: "1.1 web (weft-outbound)", clientAddress: "10.0.0.9", proto: "http" },
  );
  t.deepEqual(headers, [
    ["Host", "web"],
    ["X-Request-Id", "abc"],
    ["Accept", "a"],
    ["accept", "b"],
    ["via", "1.1 edge, 1.1 web (weft-outbound)"],
    ["x-forwarded-for", "10.0.0.9"],
    ["x-forwarded-proto", "http"],
  ]);
  t.is(requestId, "abc");
  t.is(headerValue(headers, "accept"), "a, b", "repeated fields are joined");
  t.is(headerValue(headers, "x-none"), undefined);
});

test("forwarded headers: a plain Connection: keep-alive drops only hop-by-hop fields; Upgrade is kept when asked", (t) => {
  const lines = forwardResponseLines(
    [
      "Content-Length",
      "5",
      "Connection",
      "keep-alive",
      "Keep-Alive",
      "timeout=5",
      "Upgrade",
      "websocket",
      "Via",
      "1.0 app",
      "Date",
      "today",
    ],
    "1.1 web",
    ["upgrade"],
  );
  t.is(lines, "Content-Length: 5\r\nUpgrade: websocket\r\nDate: today\r\nvia: 1.0 app, 1.1 web\r\n");
  t.is(
    forwardResponseLines(["Connection", "close, X-Hop", "x-hop", "1", "Upgrade", "h2c"], "1.1 web"),
    "via: 1.1 web\r\n",
    "listed and hop-by-hop fields are dropped; Upgrade only when kept",
  );
  const { headers, requestId } = forwardRequestHeaders([["host", "web"]], { via: "1.1 x", proto: "https" });
  t.regex(requestId, /^[0-9a-f-]{36}$/, "a request without an id gets one");
  t.deepEqual(headers.at(-1), ["x-request-id", requestId]);
  t.deepEqual(headers[2], ["x-forwarded-proto", "https"]);
});
