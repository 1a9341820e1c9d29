import { randomFillSync } from "node:crypto";
import test from "ava";
import { PooledIdGenerator } from "./id-pool";

test("ids are lower-case hex of W3C length and do not repeat across pool refills", (t) => {
  const ids = new PooledIdGenerator();
  const seen = new Set<string>();
  // 16 KiB of pool is 1024 trace ids or 2048 span ids: 3000 of each refill it four times.
  for (let i = 0; i < 3000; i++) {
    const trace = ids.generateTraceId();
    const span = ids.generateSpanId();
    t.regex(trace, /^[0-9a-f]{32}$/);
    t.regex(span, /^[0-9a-f]{16}$/);
    seen.add(trace);
    seen.add(span);
  }
  t.is(seen.size, 6000);
});

test("an all-zero id, which W3C calls invalid, is never handed out", (t) => {
  let fills = 0;
  // The first pool is all zeros; later ones are random.
  const ids = new PooledIdGenerator((b) => {
    if (fills++ === 0) b.fill(0);
    else randomFillSync(b);
  });
  const span = ids.generateSpanId();
  t.regex(span, /^[0-9a-f]{16}$/);
  t.not(span, "0".repeat(16));
  t.not(ids.generateTraceId(), "0".repeat(32));
  t.is(fills, 2, "the zero pool was used up and replaced");
});
