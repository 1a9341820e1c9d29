import test from "ava";
import { HttpError } from "../api/respond";
import {
  checkNoParameters,
  parseGraphQuery,
  parseInstancesQuery,
  parseLogSearch,
  parseSince,
  parseTraceSearch,
} from "./rest-params";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const q = (text: string) => new URLSearchParams(text);

/** Runs a parse and returns the 400's message (fails the test on anything else). */
function refusal(t: import("ava").ExecutionContext, parse: () => unknown): string {
  const err = t.throws(parse, { instanceOf: HttpError });
  t.is(err?.status, 400);
  return err?.message ?? "";
}

test("since out of the stored range is a 400 naming since and the range, on every endpoint", (t) => {
  for (const since of [
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1677-09-21T23:59:59Z",
    "2262-04-12T00:00:00Z",
  ]) {
    for (const parse of [
      () => parseTraceSearch(q(`since=${since}`), NOW),
      () => parseLogSearch(q(`since=${since}&follow=true`), NOW),
      () => parseGraphQuery(q(`since=${since}`), NOW),
      () => parseInstancesQuery("ratings", q(`since=${since}`), NOW),
    ]) {
      t.regex(refusal(t, parse), /^since must be a time from 1677-09-22T00:00:00Z to 2262-04-11T23:47:16Z/);
    }
  }
  t.is(parseSince("1677-09-22T00:00:00Z", 0, NOW), BigInt(Date.parse("1677-09-22T00:00:00Z")) * 1_000_000n);
  t.true(parseSince("1677-09-22T00:00:00Z", 0, NOW) >= -(2n ** 63n), "what SQLite binds");
  t.true(parseSince("2262-04-11T23:47:16Z", 0, NOW) < 2n ** 63n, "what SQLite binds");
});

test("since refuses impossible dates and times instead of rolling them over", (t) => {
  for (const [since, problem] of [
    ["2026-02-30T20:00:00Z", "2026-02 has no day 30"],
    ["2025-02-29T00:00:00Z", "2025-02 has no day 29"],
    ["2026-04-31T00:00:00Z", "2026-04 has no day 31"],
    ["2026-13-01T00:00:00Z", "there is no month 13"],
    ["2026-00-10T00:00:00Z", "there is no month 00"],
    ["2026-03-00T00:00:00Z", "2026-03 has no day 00"],
    ["2026-03-01T24:00:00Z", "there is no time 24:00:00"],
    ["2026-03-01T10:60Z", "there is no time 10:60:00"],
    ["2026-03-01T10:00:00+24:00", "there is no offset +24:00"],
  ] as Array<[string, string]>) {
    t.is(
      refusal(t, () => parseTraceSearch(new URLSearchParams({ since }), NOW)),
      `since must be a duration back from now (15m, 2h, 7d) or an RFC 3339 time (2024-05-01T10:00:00Z), got "${since}": ${problem}`,
    );
  }
  t.regex(
    refusal(t, () => parseLogSearch(q("since=yesterday"), NOW)),
    /got "yesterday"$/,
  );
});

test("since takes RFC 3339 times as written: lowercase t and z, offsets, fractions, leap days", (t) => {
  const ns = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
  t.is(parseSince("2026-02-28t20:00:00z", 0, NOW), ns("2026-02-28T20:00:00Z"));
  t.is(parseSince("2026-02-28T22:30:00+02:30", 0, NOW), ns("2026-02-28T20:00:00Z"));
  t.is(parseSince("2026-02-28T15:00-05:00", 0, NOW), ns("2026-02-28T20:00:00Z"));
  t.is(parseSince("2024-02-29T00:00:00Z", 0, NOW), ns("2024-02-29T00:00:00Z"));
  t.is(parseSince("2026-02-28T20:00:00.123456789Z", 0, NOW), ns("2026-02-28T20:00:00Z") + 123_456_789n);
  t.is(parseSince("1960-01-01T00:00:00Z", 0, NOW), ns("1960-01-01T00:00:00Z"));
  t.is(parseSince("15m", 0, NOW), ns("2026-03-01T11:45:00Z"));
  t.is(parseSince(null, 3_600_000, NOW), ns("2026-03-01T11:00:00Z"));
});

test("a parameter given twice is a 400, not the first silently winning", (t) => {
  t.is(
    refusal(t, () => parseTraceSearch(q("limit=2&limit=abc"), NOW)),
    'parameter "limit" is given more than once; give it once',
  );
  t.regex(
    refusal(t, () => parseLogSearch(q("service=a&service=b"), NOW)),
    /"service" is given more than once/,
  );
  t.regex(
    refusal(t, () => parseGraphQuery(q("since=1h&since=2h"), NOW)),
    /"since" is given more than once/,
  );
  t.is(parseTraceSearch(q("limit=2&service=a"), NOW).limit, 2);
});

test("GET /api/v1/traces/{id} takes no parameters", (t) => {
  t.is(
    refusal(t, () => checkNoParameters(q("foo=1"))),
    'unknown parameter "foo"; this endpoint takes no parameters',
  );
  t.notThrows(() => checkNoParameters(q("")));
});
