// The request id the sidecar adds when a request has none: a well-formed version 4 UUID, never the
// same twice in practice (it correlates log lines and traces across hops).
import test from "ava";
import { randomUuid } from "./headers";

test("request ids are RFC 4122 version 4 UUIDs and do not repeat", (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const id = randomUuid();
    t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  t.is(seen.size, 20_000);
});
