// Writes spans: one transaction per batch (an OTLP request), duplicates ignored (exporters retry),
// and a running total of stored bytes that size retention works from.
import type { Statement } from "better-sqlite3";
import type { TelemetryDatabase } from "./database";
import { TelemetryError } from "./errors";
import type { SpanRecord } from "./types";

/** Per-row overhead (ids, integers, index entries) added to the text lengths. */
const ROW_OVERHEAD_BYTES = 120;

export class SpanStore {
  private readonly insertStmt: Statement;
  private readonly insertMany: (spans: SpanRecord[]) => number;
  /** Estimated bytes of stored span data (what --trace-max-mb limits). */
  storedBytes: number;

  constructor(private readonly db: TelemetryDatabase) {
    this.insertStmt = db.prepare(`INSERT OR IGNORE INTO spans
      (trace_id, span_id, parent_span_id, service, name, kind, start_ns, duration_ns, status_code,
       status_message, peer_service, attributes, events, resource, bytes)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertMany = db.transaction((spans: SpanRecord[]) => {
      let added = 0;
      for (const s of spans) {
        const attributes = JSON.stringify(s.attributes);
        const events = JSON.stringify(s.events);
        const resource = JSON.stringify(s.resource);
        const bytes =
          ROW_OVERHEAD_BYTES +
          s.name.length +
          s.service.length +
          s.statusMessage.length +
          s.peerService.length +
          attributes.length +
          events.length +
          resource.length;
        const r = this.insertStmt.run(
          s.traceId,
          s.spanId,
          s.parentSpanId,
          s.service,
          s.name,
          s.kind,
          s.startNs,
          s.durationNs,
          s.statusCode,
          s.statusMessage,
          s.peerService,
          attributes,
          events,
          resource,
          bytes,
        );
        if (r.changes > 0) {
          added++;
          this.storedBytes += bytes;
        }
      }
      return added;
    });
    this.storedBytes = (
      db.prepare("SELECT COALESCE(SUM(bytes), 0) AS b FROM spans").get() as { b: number }
    ).b;
  }

  /** Stores a batch atomically; returns how many were new. Throws STORE_FAILED (disk full, I/O). */
  insert(spans: SpanRecord[]): number {
    if (spans.length === 0) return 0;
    try {
      return this.insertMany(spans);
    } catch (err) {
      throw new TelemetryError("STORE_FAILED", `cannot store spans: ${(err as Error).message}`);
    }
  }

  count(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM spans").get() as { n: number }).n;
  }
}
