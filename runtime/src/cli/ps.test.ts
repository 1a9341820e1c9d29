import test from "ava";
import { ago } from "./ps";

test("ages read in Docker's units, from seconds to years", (t) => {
  const now = new Date("2026-11-30T12:00:00Z");
  const back = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();
  const day = 86400;
  for (const [seconds, text] of [
    [0, "0 seconds"],
    [1, "1 second"],
    [59, "59 seconds"],
    [60, "1 minute"],
    [3599, "59 minutes"],
    [3600, "1 hour"],
    [day - 1, "23 hours"],
    [day, "1 day"],
    [13 * day, "13 days"],
    [14 * day, "2 weeks"],
    [59 * day, "8 weeks"],
    [60 * day, "2 months"],
    [729 * day, "24 months"],
    [730 * day, "2 years"],
  ] as const) {
    t.is(ago(back(seconds), now), text, `${seconds} s`);
  }
  // A reproducible build's epoch timestamp.
  t.is(ago("1970-01-01T00:00:00Z", now), "56 years");
  // A clock behind the record's: never negative.
  t.is(ago(back(-30), now), "0 seconds");
});
