// Docker-style durations for flags: "30s", "1m30s", "500ms", "2h" → milliseconds.
import { UsageError } from "../../../cli/index";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(flag: string, text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (text === "" || matched !== text.length) {
    throw new UsageError(`${flag} expects a duration like 30s, 1m30s or 500ms, got "${text}"`);
  }
  return Math.round(total);
}

/** --since/--until: a duration ago ("10m"), RFC 3339, or Unix seconds → an ISO time for the API. */
export function parseTimeFlag(flag: string, text: string, now = new Date()): string {
  if (/^\d+(\.\d+)?$/.test(text)) return new Date(Number(text) * 1000).toISOString();
  if (/^[\d.]+(ms|s|m|h)/.test(text))
    return new Date(now.getTime() - parseDuration(flag, text)).toISOString();
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) {
    throw new UsageError(
      `${flag} expects a time (2026-01-02T15:04:05Z, Unix seconds) or a duration ago (10m), got "${text}"`,
    );
  }
  return d.toISOString();
}
