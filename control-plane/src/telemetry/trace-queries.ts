// The read side of the telemetry store for traces: trace search, one trace, the service graph
// (log search is in log-queries.ts). `createTraceQueries` runs inside the query worker, whose source
// is built from this function's text (query-worker.ts), so it must stay self-contained: no imports
// used at run time, no references to anything outside its body. Type imports are fine (erased).
import type Database from "better-sqlite3";
import type {
  GraphQuery,
  InstancesQuery,
  LogSearch,
  LogView,
  ServiceGraph,
  ServiceInstances,
  SpanView,
  TraceSearch,
  TraceSummary,
  TraceView,
} from "./query-types";

export interface TraceQueries {
  traces(q: TraceSearch): { traces: TraceSummary[] };
  trace(q: { traceId: string }): TraceView | null;
  graph(q: GraphQuery): ServiceGraph;
  instances(q: InstancesQuery): ServiceInstances;
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

  /**
   * Trace search, as Jaeger's: service, operation and minimum duration pick out spans, and a trace
   * matches when one of its spans meets all of them. `status` is judged on those same spans:
   * "error", one of them has error status (with a service, that service's failures); "ok", none of
   * them has. Without span filters every span counts, so it is the whole trace's status. Each trace
   * matching the other filters is thus either "ok" or "error", never both.
   */
  function traces(q: TraceSearch): { traces: TraceSummary[] } {
    const spanWhere: string[] = [];
    const spanArgs: (string | number)[] = [];
    if (q.service !== undefined) {
      spanWhere.push("service = ?");
      spanArgs.push(q.service);
    }
    if (q.operation !== undefined) {
      spanWhere.push("name = ?");
      spanArgs.push(q.operation);
    }
    if (q.minDurationNs !== undefined) {
      spanWhere.push("duration_ns >= ?");
      spanArgs.push(q.minDurationNs);
    }
    const where = ["start_ns >= ?", ...spanWhere];
    if (q.status === "error") where.push("status_code = 2");
    const stmt = db.prepare(`SELECT trace_id FROM spans WHERE ${where.join(" AND ")} ORDER BY start_ns DESC`);
    // For status=ok: whether any span of the trace that the filters pick out (at any time) errored.
    const failedSpan =
      q.status === "ok"
        ? db.prepare(
            `SELECT 1 FROM spans WHERE ${["trace_id = ?", ...spanWhere, "status_code = 2"].join(" AND ")} LIMIT 1`,
          )
        : undefined;
    const seen = new Set<string>();
    const out: TraceSummary[] = [];
    let scanned = 0;
    for (const row of stmt.iterate(BigInt(q.sinceNs), ...spanArgs) as Iterable<{ trace_id: string }>) {
      if (++scanned > MAX_SCAN || out.length >= q.limit) break;
      if (seen.has(row.trace_id)) continue;
      seen.add(row.trace_id);
      if (failedSpan?.get(row.trace_id, ...spanArgs)) continue;
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
  function add(a: Acc, r: GraphRow): void {
    a.requests++;
    if (r.failed) a.errors++;
    a.durations.push(r.d);
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
  function newest(sql: string, since: bigint, service?: string): { rows: GraphRow[]; coveredFrom: number } {
    const statement = db.prepare(`${sql} LIMIT ${GRAPH_SAMPLE}`);
    const rows = (service === undefined ? statement.all(since) : statement.all(service, since)) as GraphRow[];
    const full = rows.length === GRAPH_SAMPLE;
    return { rows, coveredFrom: full ? rows[rows.length - 1]!.start : 0 };
  }

  /**
   * The stretch numbers are counted over: with a sample cut short, every part covers the same
   * (shortest) stretch, so rates stay comparable. A store younger than the window (a mesh that just
   * started) counts from its first span, or the rates would read low by the ratio of the two.
   */
  function stretch(
    since: bigint,
    nowNs: string,
    parts: Array<{ rows: GraphRow[]; coveredFrom: number }>,
  ): { from: number; windowS: number } {
    let from = Number(since);
    let earliest = Number.POSITIVE_INFINITY;
    for (const part of parts) {
      from = Math.max(from, part.coveredFrom);
      for (const r of part.rows) if (r.start < earliest) earliest = r.start;
    }
    if (Number.isFinite(earliest)) from = Math.max(from, earliest);
    return { from, windowS: Math.max(1, (Number(BigInt(nowNs)) - from) / 1e9) };
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
    const { from, windowS } = stretch(since, q.nowNs, [pairs, unpaired, served]);
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

  /**
   * One service's replicas: the requests each served (its server spans), told apart by the resource
   * that sent them, so a replica that fails, lags or gets no traffic shows beside the others.
   */
  function instances(q: InstancesQuery): ServiceInstances {
    const since = BigInt(q.sinceNs);
    // Graph rows, with the instance id as source and the workload as target.
    const part = newest(
      `SELECT ifnull(json_extract(resource, '$."service.instance.id"'), '') AS source,
         ifnull(json_extract(resource, '$."weft.workload"'), '') AS target,
         duration_ns AS d, status_code = 2 AS failed, start_ns AS start
       FROM spans WHERE service = ? AND kind = 2 AND start_ns >= ? ORDER BY start_ns DESC`,
      since,
      q.service,
    );
    const { from, windowS } = stretch(since, q.nowNs, [part]);
    const byInstance = new Map<string, Acc & { instance: string; workload: string }>();
    for (const r of part.rows) {
      if (r.start < from) continue;
      const key = `${r.source}\u0000${r.target}`;
      let a = byInstance.get(key);
      if (!a) {
        a = { instance: String(r.source), workload: String(r.target), durations: [], requests: 0, errors: 0 };
        byInstance.set(key, a);
      }
      add(a, r);
    }
    return {
      service: q.service,
      instances: [...byInstance.values()]
        .map((a) => ({ instance: a.instance, workload: a.workload, ...stats(a, windowS) }))
        .sort((a, b) => b.requests - a.requests || a.instance.localeCompare(b.instance)),
      windowSeconds: Math.round(windowS),
      sampled: part.coveredFrom > Number(since),
    };
  }

  return { traces, trace, graph, instances };
}
