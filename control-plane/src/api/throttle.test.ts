import test from "ava";
import { RateLimiter } from "./throttle";

test("a client spends its burst, is refused with the wait until the next token, and refills over time", (t) => {
  let now = 0;
  const limiter = new RateLimiter({ burst: 3, perSecond: 2, now: () => now });
  t.true([1, 2, 3].every(() => limiter.take("a").ok));
  t.deepEqual(limiter.take("a"), { ok: false, retryAfterMs: 500 });
  t.true(limiter.take("b").ok, "other clients have their own bucket");
  now += 500;
  t.true(limiter.take("a").ok);
  t.false(limiter.take("a").ok);
  now += 10_000;
  t.true(
    [1, 2, 3].every(() => limiter.take("a").ok),
    "refills up to the burst, not beyond",
  );
  t.false(limiter.take("a").ok);
});

test("the number of tracked clients is bounded", (t) => {
  let now = 0;
  const limiter = new RateLimiter({ burst: 1, perSecond: 1, maxClients: 2, now: () => now });
  limiter.take("a");
  limiter.take("b");
  now += 5000;
  t.true(limiter.take("c").ok);
  t.true(limiter.take("a").ok, "a's idle bucket was forgotten; a starts full");
});
