// The read side of the telemetry store for traces: trace search, one trace, the service graph
// (log search is in log-queries.ts). `createTraceQueries` runs inside the query worker, whose source
// is built from this function's text (query-worker.ts), so it must stay self-contained: no imports
// used at run time, no references to anything outside its body. Type imports are fine (erased).
import type Database from "better-sqlite3";
import type {
  GraphQuery,
  LogSearch,
  LogView,
  ServiceGraph,
  SpanView,
  TraceSearch,
  TraceSummary,
  TraceView,
} from "./query-types";

export interface TraceQueries {
  traces(q: TraceSearch): { traces: TraceSummary[] };
  trace(q: { traceId: string }): TraceView | null;
  graph(q: GraphQuery): ServiceGraph;
}

export interface LogQueries {
  logs(q: LogSearch): { logs: LogView[] };
}

export type QueryHandlers = TraceQueries & LogQueries;

export function createTraceQueries(db: Database.Database): TraceQueries {
  const KINDS = ["unspecified", "internal", "server", "client", "producer", "consumer"] as const;
  const STATUS = ["unset", "ok", "error"] as const;
  /** A search never walks more span rows than this, so its cost is bounded whatever the filters. */
  const MAX_SCAN = 2_000_000;
  /**
   * The graph reads at most the newest this-many rows per part, so its cost is bounded however busy
   * the mesh: past that, it covers the most recent stretch of the window (rates per that stretch).
   */
  const GRAPH_SAMPLE = 100_000;

  // Milliseconds come from SQLite's integer division: exact, where ns as a double is not.
  const iso = (ms: number) => new Date(ms).toISOString();
  const ms = (ns: number) => Math.round(ns / 1000) / 1000;

  const spansOfTrace = db.prepare(
    "SELECT span_id, parent_span_id, service, name, start_ns, start_ns / 1000000 AS start_ms, duration_ns, status_code FROM spans WHERE trace_id = ?",
  );
  const hasError = db.prepare("SELECT 1 FROM spans WHERE trace_id = ? AND status_code = 2 LIMIT 1");
  const fullTrace = db.prepare(
    `SELECT span_id, parent_span_id, name, kind, service, start_ns, start_ns / 1000000 AS start_ms,
       CAST(start_ns AS TEXT) AS start_text,
       duration_ns, status_code, status_message, attributes, events, resource
     FROM spans WHERE trace_id = ? ORDER BY start_ns, id`,
  );

  interface Row {
    span_id: string;
    parent_span_id: string;
    service: string;
    name: string;
    start_ns: number;
    start_ms: number;
    duration_ns: number;
    status_code: number;
  }

  function summarize(traceId: string): TraceSummary | undefined {
    const rows = spansOfTrace.all(traceId) as Row[];
    if (rows.length === 0) return undefined;
    const ids = new Set(rows.map((r) => r.span_id));
    let start = Number.POSITIVE_INFINITY;
    let startMs = 0;
    let end = 0;
    let errors = 0;
    let root: Row | undefined;
    let orphans = 0;
    const services = new Set<string>();
    for (const r of rows) {
      if (r.start_ns < start) {
        start = r.start_ns;
        startMs = r.start_ms;
      }
      end = Math.max(end, r.start_ns + r.duration_ns);
      if (r.status_code === 2) errors++;
      services.add(r.service);
      // The root is the span without a parent; while a trace is incomplete, the earliest orphan.
      const orphan = r.parent_span_id !== "" && !ids.has(r.parent_span_id);
      if (orphan) orphans++;
      const isRoot = r.parent_span_id === "" || orphan;
      const rootIsReal = root !== undefined && root.parent_span_id === "";
      if (isRoot && (!root || (!rootIsReal && (r.parent_span_id === "" || r.start_ns < root.start_ns))))
        root = r;
    }
    return {
      traceId,
      rootService: root?.service ?? "",
      rootOperation: root?.name ?? "",
      startTime: iso(startMs),
      durationMs: ms(end - start),
      spanCount: rows.length,
      errorCount: errors,
      services: [...services].sort(),
      partial: orphans > 0,
    };
  }

  function traces(q: TraceSearch): { traces: TraceSummary[] } {
    const where = ["start_ns >= ?"];
    const args: (string | number | bigint)[] = [BigInt(q.sinceNs)];
    if (q.service !== undefined) {
      where.push("service = ?");
      args.push(q.service);
    }
    if (q.operation !== undefined) {
      where.push("name = ?");
      args.push(q.operation);
    }
    if (q.minDurationNs !== undefined) {
      where.push("duration_ns >= ?");
      args.push(q.minDurationNs);
    }
    if (q.status === "error") where.push("status_code = 2");
    const stmt = db.prepare(`SELECT trace_id FROM spans WHERE ${where.join(" AND ")} ORDER BY start_ns DESC`);
    const seen = new Set<string>();
    const out: TraceSummary[] = [];
    let scanned = 0;
    for (const row of stmt.iterate(...args) as Iterable<{ trace_id: string }>) {
      if (++scanned > MAX_SCAN || out.length >= q.limit) break;
      if (seen.has(row.trace_id)) continue;
      seen.add(row.trace_id);
      if (q.status === "ok" && hasError.get(row.trace_id)) continue;
      const summary = summarize(row.trace_id);
      if (summary) out.push(summary);
    }
    out.sort((a, b) => (a.startTime < b.startTime ? 1 : a.startTime > b.startTime ? -1 : 0));
    return { traces: out };
  }

  function trace(q: { traceId: string }): TraceView | null {
    const rows = fullTrace.all(q.traceId) as (Row & {
      kind: number;
      start_text: string;
      status_message: string;
      attributes: string;
      events: string;
      resource: string;
    })[];
    if (rows.length === 0) return null;
    const spans: SpanView[] = rows.map((r) => ({
      spanId: r.span_id,
      parentSpanId: r.parent_span_id,
      name: r.name,
      kind: KINDS[r.kind] ?? "unspecified",
      service: r.service,
      startTime: iso(r.start_ms),
      startTimeUnixNano: r.start_text,
      durationMs: ms(r.duration_ns),
      status: { code: STATUS[r.status_code] ?? "unset", message: r.status_message },
      attributes: JSON.parse(r.attributes),
      resource: JSON.parse(r.resource),
      events: JSON.parse(r.events),
    }));
    return { traceId: q.traceId, spans };
  }

  function percentile(sorted: number[], p: number): number {
    if (sorted.length === 0) return 0;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return ms(sorted[i]!);
  }

  interface Acc {
    durations: number[];
    requests: number;
    errors: number;
  }
  function stats(a: Acc, windowS: number) {
    a.durations.sort((x, y) => x - y);
    return {
      requests: a.requests,
      requestRate: Math.round((a.requests / windowS) * 1000) / 1000,
      errorRate: a.requests === 0 ? 0 : Math.round((a.errors / a.requests) * 10000) / 10000,
      p50Ms: percentile(a.durations, 50),
      p95Ms: percentile(a.durations, 95),
      p99Ms: percentile(a.durations, 99),
    };
  }

  interface GraphRow {
    source: string;
    target: string;
    d: number;
    failed: number;
    start: number;
  }

  /**
   * Runs one graph query over the newest GRAPH_SAMPLE rows of the window. Returns the rows and, when
   * the sample was full, the start time of its oldest row: the graph then covers only from there.
   */
  function newest(sql: string, since: bigint): { rows: GraphRow[]; coveredFrom: number } {
    const rows = db.prepare(`${sql} LIMIT ${GRAPH_SAMPLE}`).all(since) as GraphRow[];
    const full = rows.length === GRAPH_SAMPLE;
    return { rows, coveredFrom: full ? rows[rows.length - 1]!.start : 0 };
  }

  function graph(q: GraphQuery): ServiceGraph {
    const since = BigInt(q.sinceNs);
    // A client span in one service whose child is a server span in another: a call between them.
    const pairs = newest(
      `SELECT c.service AS source, s.service AS target, c.duration_ns AS d,
         (c.status_code = 2 OR s.status_code = 2) AS failed, s.start_ns AS start
       FROM spans s JOIN spans c ON c.trace_id = s.trace_id AND c.span_id = s.parent_span_id
       WHERE s.kind = 2 AND s.start_ns >= ? AND c.kind = 3 AND c.service != s.service
       ORDER BY s.start_ns DESC`,
      since,
    );
    // Client spans whose callee sent no span (a database, an external API): named by peer attributes.
    const unpaired = newest(
      `SELECT c.service AS source, c.peer_service AS target, c.duration_ns AS d, c.status_code = 2 AS failed,
         c.start_ns AS start
       FROM spans c WHERE c.kind = 3 AND c.start_ns >= ? AND c.peer_service != '' AND c.peer_service != c.service
         AND NOT EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = c.trace_id AND s.parent_span_id = c.span_id)
       ORDER BY c.start_ns DESC`,
      since,
    );
    // A service's own numbers: the requests it served (server spans, or root spans of a service
    // that has no server spans, such as a load generator); target carries the kind.
    const served = newest(
      `SELECT service AS source, CAST(kind AS TEXT) AS target, duration_ns AS d, status_code = 2 AS failed,
         start_ns AS start
       FROM spans WHERE start_ns >= ? AND (kind = 2 OR parent_span_id = '') ORDER BY start_ns DESC`,
      since,
    );
    // With a sample cut short, every part covers the same (shortest) stretch, so rates stay comparable.
    // A store younger than the window (a mesh that just started) counts from its first span, or the
    // rates would read low by the ratio of the two.
    let earliest = Number.POSITIVE_INFINITY;
    for (const r of [...pairs.rows, ...unpaired.rows, ...served.rows])
      if (r.start < earliest) earliest = r.start;
    const from = Math.max(
      Number(since),
      pairs.coveredFrom,
      unpaired.coveredFrom,
      served.coveredFrom,
      Number.isFinite(earliest) ? earliest : 0,
    );
    const windowS = Math.max(1, (Number(BigInt(q.nowNs)) - from) / 1e9);
    const edges = new Map<string, Acc & { source: string; target: string }>();
    const nodes = new Map<string, Acc>();
    const roots = new Map<string, Acc>();
    const acc = <K>(map: Map<string, K>, key: string, make: () => K): K => {
      const found = map.get(key);
      if (found) return found;
      const made = make();
      map.set(key, made);
      return made;
    };
    const empty = (): Acc => ({ durations: [], requests: 0, errors: 0 });
    const add = (a: Acc, r: GraphRow) => {
      a.requests++;
      if (r.failed) a.errors++;
      a.durations.push(r.d);
    };
    for (const r of [...pairs.rows, ...unpaired.rows]) {
      if (r.start < from) continue;
      add(
        acc(edges, `${r.source}\u0000${r.target}`, () => ({
          source: r.source,
          target: r.target,
          ...empty(),
        })),
        r,
      );
    }
    for (const r of served.rows) {
      if (r.start < from) continue;
      add(acc(r.target === "2" ? nodes : roots, r.source, empty), r);
    }
    for (const [service, a] of roots) if (!nodes.has(service)) nodes.set(service, a);
    for (const e of edges.values()) {
      acc(nodes, e.source, empty);
      acc(nodes, e.target, empty);
    }
    return {
      nodes: [...nodes]
        .map(([service, a]) => ({ service, ...stats(a, windowS) }))
        .sort((a, b) => a.service.localeCompare(b.service)),
      edges: [...edges.values()]
        .map((e) => ({ source: e.source, target: e.target, ...stats(e, windowS) }))
        .sort((a, b) => a.source.localeCompare(b.source) || a.target.localeCompare(b.target)),
      windowSeconds: Math.round(windowS),
      sampled: Math.max(pairs.coveredFrom, unpaired.coveredFrom, served.coveredFrom) > Number(since),
    };
  }

  return { traces, trace, graph };
}
