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

function checkKnown(q: URLSearchParams, known: string[]): void {
  for (const key of q.keys()) {
    if (!known.includes(key)) bad(`unknown parameter "${key}"; this endpoint takes ${known.join(", ")}`);
  }
}

/** since= as nanoseconds: a duration back from now ("15m") or an RFC 3339 time. */
export function parseSince(value: string | null, fallbackMs: number, nowMs: number): bigint {
  if (value === null || value === "") return BigInt(Math.max(0, nowMs - fallbackMs)) * 1_000_000n;
  const ago = parseDurationMs(value);
  if (ago !== undefined) return BigInt(Math.max(0, Math.floor(nowMs - ago))) * 1_000_000n;
  const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
    ? Date.parse(value)
    : Number.NaN;
  if (Number.isNaN(t))
    bad(
      `since must be a duration back from now (15m, 2h, 7d) or an RFC 3339 time (2024-05-01T10:00:00Z), got "${value}"`,
    );
  return BigInt(t) * 1_000_000n;
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
