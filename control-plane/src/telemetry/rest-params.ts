// Query-string parsing for the trace, graph and log endpoints: every parameter checked in one place,
// a bad value answered with a 400 that names the parameter and shows a good value.
import { HttpError } from "../api/respond";
import type { GraphQuery, InstancesQuery, LogSearch, TraceSearch } from "./query-types";
import { LOG_LEVELS } from "./types";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "15m", "2h", "500ms", "7d" as milliseconds; undefined when it is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  return m ? Number(m[1]) * UNITS[m[2]!]! : undefined;
}

function bad(message: string): never {
  throw new HttpError(400, message);
}

/** Refuses a parameter the endpoint does not take, and one given twice (which would win is a guess). */
function checkKnown(q: URLSearchParams, known: string[]): void {
  const seen = new Set<string>();
  for (const key of q.keys()) {
    if (!known.includes(key)) {
      bad(
        known.length === 0
          ? `unknown parameter "${key}"; this endpoint takes no parameters`
          : `unknown parameter "${key}"; this endpoint takes ${known.join(", ")}`,
      );
    }
    if (seen.has(key)) bad(`parameter "${key}" is given more than once; give it once`);
    seen.add(key);
  }
}

/** GET /api/v1/traces/{traceId} takes no parameters. */
export function checkNoParameters(q: URLSearchParams): void {
  checkKnown(q, []);
}

/** The times `since` may name: those SQLite's signed 64-bit integers hold as ns since 1970, to the second. */
const EARLIEST_SINCE = "1677-09-22T00:00:00Z";
const LATEST_SINCE = "2262-04-11T23:47:16Z";
const EARLIEST_SINCE_NS = BigInt(Date.parse(EARLIEST_SINCE)) * 1_000_000n;
const LATEST_SINCE_NS = BigInt(Date.parse(LATEST_SINCE)) * 1_000_000n;

/** RFC 3339, seconds optional: date, "T" or "t", time, then "Z", "z" or an offset. */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9})\d*)?)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * An RFC 3339 time as ns since 1970, or what is wrong with it. Impossible dates and times (February
 * 30th, 25:00) are refused, not rolled over as Date.parse does.
 */
function rfc3339Ns(value: string): { ns: bigint } | { problem: string; range?: true } {
  const m = RFC3339.exec(value);
  if (!m) return { problem: "" };
  const [year, month, day, hour, minute, second, , , offsetHour, offsetMinute] = m
    .slice(1)
    .map((x) => (x === undefined || x === "+" || x === "-" ? 0 : Number(x)));
  const days = month === 2 && isLeap(year!) ? 29 : DAYS[month! - 1];
  if (days === undefined) return { problem: `there is no month ${m[2]}` };
  if (day! < 1 || day! > days) return { problem: `${m[1]}-${m[2]} has no day ${m[3]}` };
  // 60 is a leap second, which RFC 3339 allows.
  if (hour! > 23 || minute! > 59 || second! > 60)
    return { problem: `there is no time ${m[4]}:${m[5]}:${m[6] ?? "00"}` };
  if (offsetHour! > 23 || offsetMinute! > 59)
    return { problem: `there is no offset ${m[8]}${m[9]}:${m[10]}` };
  if (year! < 1677 || year! > 2262) return { problem: "", range: true };
  const date = new Date(0);
  date.setUTCFullYear(year!, month! - 1, day!); // not Date.UTC, which reads years 0-99 as 19xx
  const offsetMin = (m[8] === "-" ? -1 : 1) * (offsetHour! * 60 + offsetMinute!);
  const ms = date.getTime() + ((hour! * 60 + minute! - offsetMin) * 60 + second!) * 1000;
  return { ns: BigInt(ms) * 1_000_000n + BigInt((m[7] ?? "").padEnd(9, "0")) };
}

/** since= as nanoseconds: a duration back from now ("15m") or an RFC 3339 time. */
export function parseSince(value: string | null, fallbackMs: number, nowMs: number): bigint {
  if (value === null || value === "") return BigInt(Math.max(0, nowMs - fallbackMs)) * 1_000_000n;
  const ago = parseDurationMs(value);
  if (ago !== undefined) return BigInt(Math.max(0, Math.floor(nowMs - ago))) * 1_000_000n;
  const t = rfc3339Ns(value);
  if (("range" in t && t.range) || ("ns" in t && (t.ns < EARLIEST_SINCE_NS || t.ns > LATEST_SINCE_NS)))
    bad(
      `since must be a time from ${EARLIEST_SINCE} to ${LATEST_SINCE} (what the store holds), got "${value}"`,
    );
  if ("problem" in t)
    bad(
      `since must be a duration back from now (15m, 2h, 7d) or an RFC 3339 time (2024-05-01T10:00:00Z), got "${value}"${t.problem === "" ? "" : `: ${t.problem}`}`,
    );
  return t.ns;
}

function parseLimit(value: string | null, fallback: number, max: number): number {
  if (value === null || value === "") return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    bad(`limit must be a whole number from 1 to ${max}, got "${value}"`);
  }
  return Number(value);
}

function optional(q: URLSearchParams, name: string, max = 256): string | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (v.length > max) bad(`${name} is longer than ${max} characters`);
  return v;
}

const HOUR_MS = 3_600_000;

export function parseTraceSearch(q: URLSearchParams, nowMs = Date.now()): TraceSearch {
  checkKnown(q, ["service", "operation", "minDurationMs", "status", "since", "limit"]);
  const search: TraceSearch = {
    service: optional(q, "service"),
    operation: optional(q, "operation", 1024),
    sinceNs: parseSince(q.get("since"), HOUR_MS, nowMs).toString(),
    limit: parseLimit(q.get("limit"), 20, 1000),
  };
  const min = q.get("minDurationMs");
  if (min !== null && min !== "") {
    if (!/^\d+(\.\d+)?$/.test(min))
      bad(`minDurationMs must be a number of milliseconds (e.g. 250 or 0.5), got "${min}"`);
    search.minDurationNs = Math.round(Number(min) * 1e6);
  }
  const status = q.get("status");
  if (status !== null && status !== "") {
    if (status !== "ok" && status !== "error") bad(`status must be "ok" or "error", got "${status}"`);
    search.status = status;
  }
  return search;
}

export function parseGraphQuery(q: URLSearchParams, nowMs = Date.now()): GraphQuery {
  checkKnown(q, ["since"]);
  return {
    sinceNs: parseSince(q.get("since"), 15 * 60_000, nowMs).toString(),
    nowNs: (BigInt(nowMs) * 1_000_000n).toString(),
  };
}

/** GET /api/v1/services/{service}/instances: the same window as the graph's. */
export function parseInstancesQuery(service: string, q: URLSearchParams, nowMs = Date.now()): InstancesQuery {
  return { service, ...parseGraphQuery(q, nowMs) };
}

export function parseLogSearch(q: URLSearchParams, nowMs = Date.now()): LogSearch {
  checkKnown(q, ["service", "container", "level", "traceId", "q", "since", "limit", "follow"]);
  const search: LogSearch = {
    service: optional(q, "service"),
    container: optional(q, "container"),
    q: optional(q, "q", 1024),
    sinceNs: parseSince(q.get("since"), HOUR_MS, nowMs).toString(),
    limit: parseLimit(q.get("limit"), 100, 5000),
  };
  const level = optional(q, "level");
  if (level !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      bad(`level must be one of ${LOG_LEVELS.join(", ")} (lines at that level or above), got "${level}"`);
    }
    search.level = level as LogSearch["level"];
  }
  const traceId = optional(q, "traceId");
  if (traceId !== undefined) {
    if (!/^[0-9a-fA-F]{32}$/.test(traceId)) bad(`traceId must be 32 hex characters, got "${traceId}"`);
    search.traceId = traceId.toLowerCase();
  }
  const follow = q.get("follow");
  if (follow !== null && !["true", "false", "1", "0", ""].includes(follow)) {
    bad(`follow must be true or false, got "${follow}"`);
  }
  return search;
}

export function isFollow(q: URLSearchParams): boolean {
  const v = q.get("follow");
  return v === "true" || v === "1" || v === "";
}
