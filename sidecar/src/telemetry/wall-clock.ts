// The wall-clock time of a span's start and end, to the microsecond. The SDK's own start time is
// Date.now(): whole milliseconds, so in a waterfall every hop started on a millisecond boundary and a
// 0.4 ms hop between two sidecars could not be seen. performance.now() is precise but monotonic, and
// its fixed origin drifts from the wall clock over a long uptime (why the SDK stopped using it alone).
// Here the wall clock is performance.now() plus an offset learned from Date.now() at every call.
// Date.now() minus the performance.now() read just after it is at most the true offset (Date.now()
// drops the fraction of a millisecond, and the later read only adds), so the largest sample seen is
// the true offset from below: a time read is never before Date.now() and never after the true time,
// and once calls have landed at various points of a millisecond (a few dozen requests) it is within
// microseconds of it. A sample well below the offset, taken with nothing between the two reads, means
// the wall clock was set back: it is followed at once.
import { performance } from "node:perf_hooks";
import type { HrTime } from "@opentelemetry/api";

let offset = Number.NEGATIVE_INFINITY;

/** Milliseconds since the epoch, with a fraction. */
export function wallClockMs(): number {
  const before = performance.now();
  const date = Date.now();
  const mono = performance.now();
  const sample = date - mono;
  if (sample > offset) offset = sample;
  // An honest sample is above offset - 1 (minus the gap between the reads); a preempted one can be
  // lower, so only a tight one may move the offset back.
  else if (sample < offset - 1.1 && mono - before < 0.05) offset = sample;
  return offset + mono;
}

/** wallClockMs() as the SDK's [seconds, nanoseconds]. */
export function wallClockHrTime(): HrTime {
  const ms = wallClockMs();
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds++;
    nanos -= 1e9;
  }
  return [seconds, nanos];
}
