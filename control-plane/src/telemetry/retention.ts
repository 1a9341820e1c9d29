// Retention: spans and log lines older than their age limit go, then the oldest go until each table
// is under its size budget. Deletes run in small chunks with a yield between them, so a big clean-up
// never holds the event loop (or the database's write lock) for long.
import type { Statement } from "better-sqlite3";
import type { TelemetryDatabase } from "./database";

export interface RetentionLimits {
  /** Spans older than this are deleted. Default 24 h. */
  traceMaxAgeMs: number;
  /** Span data is kept under this many bytes (the estimate SpanStore keeps). Default 512 MiB. */
  traceMaxBytes: number;
  logMaxAgeMs: number;
  logMaxBytes: number;
}

/** Rows deleted per transaction; small enough that one chunk takes a few milliseconds. */
const CHUNK = 2000;
/** Size retention trims to this share of the budget, so it does not run again after every batch. */
const LOW_WATER = 0.9;

interface Table {
  byAge: Statement;
  oldest: Statement;
  account: { storedBytes: number };
  maxAgeMs: number;
  maxBytes: number;
}

export class Retention {
  private readonly tables: Table[];
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: TelemetryDatabase,
    spans: { storedBytes: number },
    logs: { storedBytes: number },
    limits: RetentionLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.tables = [
      {
        byAge: db.prepare(
          `DELETE FROM spans WHERE id IN (SELECT id FROM spans WHERE start_ns < ? ORDER BY start_ns LIMIT ${CHUNK}) RETURNING bytes`,
        ),
        oldest: db.prepare(
          `DELETE FROM spans WHERE id IN (SELECT id FROM spans ORDER BY start_ns LIMIT ?) RETURNING bytes`,
        ),
        account: spans,
        maxAgeMs: limits.traceMaxAgeMs,
        maxBytes: limits.traceMaxBytes,
      },
      {
        byAge: db.prepare(
          `DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE time_ns < ? ORDER BY time_ns LIMIT ${CHUNK}) RETURNING bytes`,
        ),
        oldest: db.prepare(
          `DELETE FROM logs WHERE id IN (SELECT id FROM logs ORDER BY time_ns LIMIT ?) RETURNING bytes`,
        ),
        account: logs,
        maxAgeMs: limits.logMaxAgeMs,
        maxBytes: limits.logMaxBytes,
      },
    ];
  }

  /** True when a table is over its size budget (the ingest path calls enforce() early then). */
  overBudget(): boolean {
    return this.tables.some((t) => t.account.storedBytes > t.maxBytes);
  }

  /** Runs one pass over both tables; concurrent calls share the pass. */
  enforce(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves when the pass in progress (if any) has finished. */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async pass(): Promise<void> {
    let deleted = 0;
    for (const t of this.tables) {
      const cutoffNs = BigInt(Math.max(0, this.now() - t.maxAgeMs)) * 1_000_000n;
      for (;;) {
        const rows = t.byAge.all(cutoffNs) as { bytes: number }[];
        this.account(t, rows);
        deleted += rows.length;
        if (rows.length < CHUNK) break;
        await yieldToEventLoop();
      }
      if (t.account.storedBytes <= t.maxBytes) continue;
      // Sized from the rows just deleted, so a small budget is not overshot by a whole chunk.
      let rowsWanted = 100;
      while (t.account.storedBytes > t.maxBytes * LOW_WATER) {
        const rows = t.oldest.all(rowsWanted) as { bytes: number }[];
        const freed = this.account(t, rows);
        deleted += rows.length;
        if (rows.length === 0) {
          t.account.storedBytes = 0;
          break;
        }
        const excess = t.account.storedBytes - t.maxBytes * LOW_WATER;
        rowsWanted = Math.min(CHUNK, Math.max(1, Math.ceil(excess / (freed / rows.length))));
        await yieldToEventLoop();
      }
    }
    // Hand freed pages back so the file shrinks too; bounded per pass (40 MB of 4 KiB pages) so a
    // huge clean-up is spread over several passes instead of one long stall.
    if (deleted > 0) this.db.pragma("incremental_vacuum(10000)");
  }

  /** Subtracts deleted rows from the table's total; returns the bytes freed. */
  private account(t: Table, rows: { bytes: number }[]): number {
    let freed = 0;
    for (const r of rows) freed += r.bytes;
    t.account.storedBytes -= freed;
    return freed;
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
