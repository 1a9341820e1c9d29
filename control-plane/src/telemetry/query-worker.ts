// Runs telemetry queries on a worker thread with its own read-only SQLite connection, so a heavy
// query (a graph over an hour of spans, a search over a million) never blocks config pushes or
// registrations on the main thread. The worker's source is built from the query functions' text and
// evaluated, so the same code runs from the TypeScript sources and from the esbuild bundle, which has
// no separate worker file.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { TelemetryError } from "./errors";
import { createLogQueries } from "./log-queries";
import { createTraceQueries, type QueryHandlers } from "./trace-queries";

type Op = keyof QueryHandlers;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface QueryWorkerOptions {
  /** A query running longer than this is abandoned and the worker restarted. Default 30,000 ms. */
  timeoutMs?: number;
  log?: (message: string) => void;
}

const WORKER_SOURCE = `
const __name = (target) => target;
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.sqlitePath);
const db = new Database(workerData.dbPath, { readonly: true, fileMustExist: true });
db.pragma("busy_timeout = 5000");
// Graph and search queries jump around a large file: a bigger page cache and memory-mapped reads
// keep those lookups out of read() calls. Both are per connection and cost only address space.
db.pragma("cache_size = -65536");
db.pragma("mmap_size = 268435456");
const handlers = {
  ...(${createTraceQueries.toString()})(db),
  ...(${createLogQueries.toString()})(db),
};
parentPort.on("message", (m) => {
  try {
    parentPort.postMessage({ id: m.id, ok: true, value: handlers[m.op](m.params) });
  } catch (err) {
    parentPort.postMessage({ id: m.id, ok: false, error: String(err && err.message || err) });
  }
});
`;

export class QueryWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly log: (message: string) => void;

  constructor(
    private readonly dbPath: string,
    options: QueryWorkerOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.log = options.log ?? ((m) => console.error(m));
  }

  /** Runs one query off the main thread. Rejects with QUERY_FAILED (bad SQL state, timeout) or CLOSED. */
  run<K extends Op>(op: K, params: Parameters<QueryHandlers[K]>[0]): Promise<ReturnType<QueryHandlers[K]>> {
    if (this.closed)
      return Promise.reject(new TelemetryError("CLOSED", "the telemetry store is shutting down"));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new TelemetryError(
            "QUERY_FAILED",
            `the query took longer than ${this.timeoutMs} ms and was stopped; narrow it with since= or service=`,
          ),
        );
        // The worker may be stuck in SQLite; replace it so later queries are not queued behind it.
        this.restart("a query timed out");
      }, this.timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      worker.postMessage({ id, op, params });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new TelemetryError("CLOSED", "the telemetry store is shutting down"));
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const sqlitePath = createRequire(import.meta.url).resolve("better-sqlite3");
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { sqlitePath, dbPath: this.dbPath } });
    // The worker must not keep a finished CLI or test process alive; pending queries keep their timers.
    w.unref();
    w.on("message", (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(new TelemetryError("QUERY_FAILED", `telemetry query failed: ${m.error}`));
    });
    w.on("error", (err) => {
      this.log(`telemetry query worker failed: ${err.message}`);
      if (this.worker === w) this.worker = undefined;
      this.failAll(
        new TelemetryError("QUERY_FAILED", `telemetry query worker failed: ${err.message}; retry`),
      );
    });
    w.on("exit", () => {
      if (this.worker === w) this.worker = undefined;
    });
    this.worker = w;
    return w;
  }

  private restart(reason: string): void {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    this.log(`telemetry query worker restarted: ${reason}`);
    this.failAll(new TelemetryError("QUERY_FAILED", `telemetry query worker restarted (${reason}); retry`));
    void w.terminate();
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }
}
