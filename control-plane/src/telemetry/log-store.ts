// Writes log lines (one transaction per batch, full-text indexed in the same transaction) and tells followers
// about each stored line, with its id, so `follow=true` streams without gaps or repeats.
import type { Statement } from "better-sqlite3";
import type { TelemetryDatabase } from "./database";
import { TelemetryError } from "./errors";
import type { LogEntry } from "./types";

const ROW_OVERHEAD_BYTES = 100;

export interface StoredLog extends LogEntry {
  id: number;
}

export type LogListener = (logs: StoredLog[]) => void;

export class LogStore {
  private readonly insertStmt: Statement;
  private readonly indexStmt: Statement;
  private readonly insertMany: (logs: LogEntry[]) => StoredLog[];
  private readonly listeners = new Set<LogListener>();
  /** Estimated bytes of stored log data (what --log-max-mb limits). */
  storedBytes: number;
  /** Lines senders reported dropping (LogSink dropped_since_last) plus lines the sink refused. */
  droppedLines = 0;

  constructor(private readonly db: TelemetryDatabase) {
    this.insertStmt = db.prepare(`INSERT INTO logs
      (time_ns, service, container, instance, level, source, message, trace_id, span_id, attributes, bytes)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.indexStmt = db.prepare("INSERT INTO logs_fts(rowid, message) VALUES (?, ?)");
    this.insertMany = db.transaction((logs: LogEntry[]) => {
      const stored: StoredLog[] = [];
      for (const l of logs) {
        const attributes = JSON.stringify(l.attributes);
        // The FTS index roughly doubles the message's cost.
        const bytes =
          ROW_OVERHEAD_BYTES +
          2 * l.message.length +
          l.service.length +
          l.container.length +
          l.instance.length +
          attributes.length;
        const r = this.insertStmt.run(
          l.timeNs,
          l.service,
          l.container,
          l.instance,
          l.level,
          l.source,
          l.message,
          l.traceId,
          l.spanId,
          attributes,
          bytes,
        );
        this.indexStmt.run(r.lastInsertRowid, l.message);
        this.storedBytes += bytes;
        stored.push({ ...l, id: Number(r.lastInsertRowid) });
      }
      return stored;
    });
    this.storedBytes = (db.prepare("SELECT COALESCE(SUM(bytes), 0) AS b FROM logs").get() as { b: number }).b;
  }

  /** Stores a batch atomically and then tells followers. Throws STORE_FAILED (disk full, I/O). */
  insert(logs: LogEntry[]): number {
    if (logs.length === 0) return 0;
    let stored: StoredLog[];
    try {
      stored = this.insertMany(logs);
    } catch (err) {
      throw new TelemetryError("STORE_FAILED", `cannot store log lines: ${(err as Error).message}`);
    }
    for (const listener of this.listeners) {
      try {
        listener(stored);
      } catch {
        // A follower's failure (a closed socket) is its own business; storing already succeeded.
      }
    }
    return stored.length;
  }

  /** Calls `listener` with every batch stored from now on; returns the unsubscribe function. */
  subscribe(listener: LogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  followers(): number {
    return this.listeners.size;
  }

  count(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM logs").get() as { n: number }).n;
  }
}
