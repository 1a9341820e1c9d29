// The telemetry store: spans and log lines in their own SQLite database, written on the main thread
// in batched transactions, read through the query worker, trimmed by retention on a timer.
import type { TelemetryDatabase } from "./database";
import { openTelemetryDatabase } from "./database";
import { type LogListener, LogStore } from "./log-store";
import { QueryWorker } from "./query-worker";
import { Retention, type RetentionLimits } from "./retention";
import { SpanStore } from "./span-store";
import type { LogEntry, SpanRecord } from "./types";

export interface TelemetryStoreOptions {
  /** The database file (created when missing). */
  path: string;
  /** Age and size limits; defaults: 24 h and 512 MiB for spans and for logs. */
  retention?: Partial<RetentionLimits>;
  /** How often retention runs. Default 60,000 ms. */
  retentionIntervalMs?: number;
  /** A query running longer than this is stopped. Default 30,000 ms. */
  queryTimeoutMs?: number;
  log?: (message: string) => void;
}

const DAY_MS = 24 * 3600 * 1000;
const MIB = 1024 * 1024;

export const RETENTION_DEFAULTS: RetentionLimits = {
  traceMaxAgeMs: DAY_MS,
  traceMaxBytes: 512 * MIB,
  logMaxAgeMs: DAY_MS,
  logMaxBytes: 512 * MIB,
};

export class TelemetryStore {
  readonly spans: SpanStore;
  readonly logs: LogStore;
  readonly queries: QueryWorker;
  readonly retention: Retention;
  private readonly db: TelemetryDatabase;
  private readonly timer: NodeJS.Timeout;
  private readonly log: (message: string) => void;
  private closed = false;

  constructor(options: TelemetryStoreOptions) {
    this.log = options.log ?? ((m) => console.error(m));
    this.db = openTelemetryDatabase(options.path);
    this.spans = new SpanStore(this.db);
    this.logs = new LogStore(this.db);
    this.retention = new Retention(this.db, this.spans, this.logs, {
      ...RETENTION_DEFAULTS,
      ...options.retention,
    });
    this.queries = new QueryWorker(options.path, { timeoutMs: options.queryTimeoutMs, log: this.log });
    this.timer = setInterval(() => this.enforceRetention(), options.retentionIntervalMs ?? 60_000);
    this.timer.unref();
  }

  /** Stores spans (one transaction); returns how many were new. Throws TelemetryError STORE_FAILED. */
  addSpans(spans: SpanRecord[]): number {
    const added = this.spans.insert(spans);
    if (this.retention.overBudget()) this.enforceRetention();
    return added;
  }

  /** Stores log lines (one transaction) and tells followers. Throws TelemetryError STORE_FAILED. */
  addLogs(logs: LogEntry[]): number {
    const added = this.logs.insert(logs);
    if (this.retention.overBudget()) this.enforceRetention();
    return added;
  }

  followLogs(listener: LogListener): () => void {
    return this.logs.subscribe(listener);
  }

  /** One retention pass now; problems are reported, never thrown (it runs from a timer). */
  enforceRetention(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.retention
      .enforce()
      .catch((err: Error) => this.log(`telemetry retention failed: ${err.message}`));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.queries.close();
    await this.retention.settled().catch(() => {});
    this.db.close();
  }
}
