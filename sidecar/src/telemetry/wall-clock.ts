// The wall-clock time of a span's start and end, to the microsecond. The SDK's own start time is
// Date.now(): whole milliseconds, so in a waterfall every hop started on a millisecond boundary and a
// 0.4 ms hop between two sidecars could not be seen. performance.now() is precise but monotonic, and
// its fixed origin drifts from the wall clock over a long uptime (why the SDK stopped using it alone).
// Here the wall clock is performance.now() plus an offset learned from Date.now() at every call:
// Date.now() - performance.now() is the true offset minus the fraction of a millisecond Date.now()
// dropped, so the largest value seen is the true offset, give or take the nanoseconds between the two
// calls. A time read is thus never before Date.now() and never after the true time, and once calls
// have landed at various points of a millisecond (a few dozen requests) it is within microseconds of
// it. A wall clock that is set back (a value a whole millisecond below the offset) is followed at once.
import { performance } from "node:perf_hooks";
import type { HrTime } from "@opentelemetry/api";

let offset = Number.NEGATIVE_INFINITY;

/** Milliseconds since the epoch, with a fraction. */
export function wallClockMs(): number {
  const mono = performance.now();
  const sample = Date.now() - mono;
  if (sample > offset || sample <= offset - 1) offset = sample;
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
