import { performance } from "node:perf_hooks";
import test from "ava";
import { wallClockHrTime, wallClockMs } from "./wall-clock";

test("the wall clock is never before Date.now(), never after it by a millisecond, and never goes back", async (t) => {
  let last = 0;
  for (let i = 0; i < 300; i++) {
    const before = Date.now();
    const now = wallClockMs();
    const after = Date.now();
    t.true(now >= before && now < after + 1, `${before} <= ${now} < ${after} + 1`);
    t.true(now >= last, "monotonic");
    last = now;
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1 + (i % 3)));
  }
});

test("it is precise to well under a millisecond once calls have fallen at various points of one", async (t) => {
  for (let i = 0; i < 200; i++) {
    wallClockMs();
    await new Promise((r) => setImmediate(r));
  }
  // The offset ours runs on (wall clock minus monotonic clock), as learned so far.
  const mono = performance.now();
  const learned = wallClockMs() - mono;
  // The true offset, found without it: the moment Date.now() ticks over, the wall clock is that
  // whole millisecond (to the microsecond or so the loop takes). Not performance.timeOrigin: that is
  // the wall clock at the worker's start, and NTP slewing moves the two apart by tenths of a
  // millisecond over a long CI run.
  // A preemption between the two reads makes an edge look late: the best of five edges counts.
  let truth = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const start = Date.now();
    let edge = start;
    let edgeMono = 0;
    while (edge === start) {
      edge = Date.now();
      edgeMono = performance.now();
    }
    truth = Math.max(truth, edge - edgeMono);
  }
  t.true(
    Math.abs(learned - truth) < 0.1,
    `learned offset ${learned} vs ${truth}: ${(learned - truth).toFixed(4)} ms apart`,
  );
  const [seconds, nanos] = wallClockHrTime();
  t.true(Number.isInteger(seconds) && Number.isInteger(nanos) && nanos >= 0 && nanos < 1e9);
  t.true(Math.abs(seconds * 1000 + nanos / 1e6 - wallClockMs()) < 1);
});

test("a wall clock set back is followed, and so is one set forward", (t) => {
  wallClockMs();
  const realNow = Date.now;
  try {
    Date.now = () => realNow() - 5000; // as after `date -s` or an NTP step
    // The first call whose two clock reads are not split by a preemption (on a busy machine, maybe
    // not the very first) moves it back.
    let back = wallClockMs();
    for (let i = 0; i < 50 && back > realNow() - 4000; i++) back = wallClockMs();
    t.true(Math.abs(back - (realNow() - 5000)) < 2, `${back} vs ${realNow() - 5000}`);
    Date.now = realNow;
    const forward = wallClockMs();
    t.true(Math.abs(forward - realNow()) < 2, `${forward} vs ${realNow()}`);
  } finally {
    Date.now = realNow;
  }
});
