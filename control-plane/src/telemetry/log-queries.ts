// Log search for the query worker: filters on indexed columns, full-text search through FTS5.
// Like createTraceQueries, `createLogQueries` is sent to the worker as source text, so it must stay
// self-contained (no run-time imports, no outside references).
import type Database from "better-sqlite3";
import type { LogSearch, LogView } from "./query-types";
import type { LogQueries } from "./trace-queries";

export function createLogQueries(db: Database.Database): LogQueries {
  const LEVELS = ["debug", "info", "warn", "error"];
  const iso = (ms: number) => new Date(ms).toISOString();

  /**
   * User text to an FTS5 query: every word quoted (no syntax errors), words ANDed, "word*" a prefix.
   * follow=true matches new lines by the same rules in log-match.ts: change both together.
   */
  function ftsQuery(text: string): string {
    return text
      .split(/\s+/)
      .filter((w) => w !== "" && w !== "*")
      .map((w) => {
        const prefix = w.endsWith("*");
        const word = (prefix ? w.slice(0, -1) : w).replace(/"/g, '""');
        return prefix ? `"${word}"*` : `"${word}"`;
      })
      .join(" ");
  }

  const traceHasSpans = db.prepare("SELECT 1 FROM spans WHERE trace_id = ? LIMIT 1");

  function logs(q: LogSearch): { logs: LogView[] } {
    const where = ["l.time_ns >= ?"];
    const args: (string | number | bigint)[] = [BigInt(q.sinceNs)];
    for (const [column, value] of [
      ["service", q.service],
      ["container", q.container],
      ["trace_id", q.traceId],
    ] as const) {
      if (value !== undefined) {
        where.push(`l.${column} = ?`);
        args.push(value);
      }
    }
    if (q.level !== undefined) {
      const allowed = LEVELS.slice(LEVELS.indexOf(q.level));
      where.push(`l.level IN (${allowed.map(() => "?").join(", ")})`);
      args.push(...allowed);
    }
    const fts = q.q === undefined ? "" : ftsQuery(q.q);
    if (fts !== "") {
      where.push("l.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)");
      args.push(fts);
    }
    const rows = db
      .prepare(
        `SELECT l.id, l.time_ns / 1000000 AS time_ms, l.service, l.container, l.instance, l.level, l.source, l.message, l.trace_id,
           l.span_id, l.attributes FROM logs l WHERE ${where.join(" AND ")} ORDER BY l.time_ns DESC, l.id DESC LIMIT ?`,
      )
      .all(...args, q.limit) as {
      id: number;
      time_ms: number;
      service: string;
      container: string;
      instance: string;
      level: string;
      source: string;
      message: string;
      trace_id: string;
      span_id: string;
      attributes: string;
    }[];
    // Newest `limit` lines, printed oldest first (as `tail` does).
    rows.reverse();
    const stored = new Map<string, boolean>();
    for (const r of rows) {
      if (r.trace_id !== "" && !stored.has(r.trace_id))
        stored.set(r.trace_id, traceHasSpans.get(r.trace_id) !== undefined);
    }
    return {
      logs: rows.map((r) => ({
        id: r.id,
        time: iso(r.time_ms),
        service: r.service,
        container: r.container,
        instance: r.instance,
        level: r.level,
        source: r.source,
        message: r.message,
        traceId: r.trace_id,
        spanId: r.span_id,
        attributes: JSON.parse(r.attributes),
        ...(r.trace_id === "" ? {} : { traceStored: stored.get(r.trace_id) === true }),
      })),
    };
  }

  return { logs };
}
