// Ships log lines to a sink in batches with a bounded buffer. push() never waits and never throws:
// when the buffer is full (the sink is slow or down) the line is dropped and counted, and the count
// travels with the next batch that gets through, so losses show up at the control plane.
// Each line is encoded as it is pushed (a LogBatch record, log-batch-codec.ts) into its batch's
// buffer: held as objects for up to a second, access-log lines were the largest share of what a
// sidecar under load promoted to V8's old generation, and so of its old space's growth.
import { appendLogRecord } from "./log-batch-codec";
import { Writer } from "./protobuf-writer";

export interface ShippedLine {
  /** Nanoseconds since the Unix epoch, as a decimal string (0 = when received). */
  timeUnixNano: string;
  /** The time as milliseconds since the Unix epoch, in place of timeUnixNano: what a line made now
   * has (Date.now()), sent without a decimal string to build and read back. */
  timeMs?: number;
  service: string;
  container: string;
  instance: string;
  level: "debug" | "info" | "warn" | "error";
  source: "access" | "stdout" | "stderr" | "app";
  message: string;
  traceId: string;
  spanId: string;
  attributes: Record<string, string>;
}

export interface SinkResult {
  accepted: number;
  dropped: number;
}

/** A batch as the shipper holds it: LogBatch `records` entries, encoded. */
export interface EncodedLines {
  records: Buffer;
  lines: number;
}

/** Sends one batch; rejects when the sink cannot be reached. Once it resolves, the sink is done with
 * `records`: the shipper writes its next batch into the same memory. */
export type SendBatch = (batch: EncodedLines, droppedSinceLast: number) => Promise<SinkResult>;

/** A batch being filled, into a writer of its own. */
interface Batch {
  w: Writer;
  lines: number;
}

/** Where a batch's buffer starts; it doubles as lines come (about 300 bytes each). */
const BATCH_START_BYTES = 16 * 1024;
/** The buffers of batches the sink took are written again, up to this size: a buffer per batch was
 * memory outside V8's heap that only a full GC gave back, and full GCs became rare once the lines
 * stopped being promoted (RSS grew by about 0.4 MB a second). One that failed to send is never
 * reused: the socket may still hold it. */
const REUSED_MAX_BYTES = 1024 * 1024;

export interface LogShipperOptions {
  send: SendBatch;
  /** Lines held while the sink is slow or away. Default 10000. */
  maxBuffered?: number;
  /** Default 500. */
  maxBatch?: number;
  /** How long a line may wait for a batch to fill. Default 1000. */
  flushIntervalMs?: number;
  /** After a failed send, wait this long, doubling up to maxBackoffMs. Default 500 / 30000. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Milliseconds; default Date.now (tests pass their own). */
  now?: () => number;
  onError?: (err: Error) => void;
}

export interface ShipperStats {
  sent: number;
  dropped: number;
  buffered: number;
  failures: number;
}

export class LogShipper {
  /** Oldest first; lines go into the last. A batch being sent is not in here. */
  private batches: Batch[] = [];
  /** Lines in `batches`. */
  private held = 0;
  /** Writers of sent batches, for the next ones. */
  private readonly spare: Writer[] = [];
  private timer?: NodeJS.Timeout;
  private timerNow = false;
  private inflight?: Promise<void>;
  private closed = false;
  private droppedUnreported = 0;
  private backoffMs: number;
  private retryAt = 0;
  readonly stats: ShipperStats = { sent: 0, dropped: 0, buffered: 0, failures: 0 };

  constructor(private readonly o: LogShipperOptions) {
    this.backoffMs = o.backoffMs ?? 500;
  }

  push(line: ShippedLine): void {
    if (this.closed) return;
    if (this.held >= (this.o.maxBuffered ?? 10_000)) {
      this.stats.dropped++;
      this.droppedUnreported++;
      return;
    }
    const maxBatch = this.o.maxBatch ?? 500;
    let batch = this.batches[this.batches.length - 1];
    if (!batch || batch.lines >= maxBatch) {
      const w = this.spare.pop() ?? new Writer(BATCH_START_BYTES);
      w.pos = 0;
      batch = { w, lines: 0 };
      this.batches.push(batch);
    }
    appendLogRecord(batch.w, line);
    batch.lines++;
    this.stats.buffered = ++this.held;
    // While backing off after a failure, the retry timer stands.
    if (batch.lines >= maxBatch && this.retryAt === 0) this.flushSoon(0);
    else this.flushSoon(this.o.flushIntervalMs ?? 1000);
  }

  /** Sends one batch of what is buffered now; resolves when it is done (joins one in flight). */
  flush(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.held === 0) return Promise.resolve();
    const now = (this.o.now ?? Date.now)();
    if (now < this.retryAt) {
      this.flushSoon(this.retryAt - now);
      return Promise.resolve();
    }
    this.inflight = this.sendBatch(now).finally(() => {
      this.inflight = undefined;
      if (this.held > 0 && !this.closed) this.flushSoon(this.retryAt > now ? this.retryAt - now : 0);
    });
    return this.inflight;
  }

  /** Sends everything buffered (stopping at the first failure), then stops taking lines. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inflight) await this.inflight;
    this.retryAt = 0;
    while (this.held > 0) {
      const failures = this.stats.failures;
      await this.flush();
      if (this.stats.failures > failures) break;
    }
  }

  private async sendBatch(now: number): Promise<void> {
    const batch = this.batches.shift() as Batch;
    this.held -= batch.lines;
    const dropped = this.droppedUnreported;
    this.droppedUnreported = 0;
    try {
      const result = await this.o.send(
        { records: batch.w.buf.subarray(0, batch.w.pos), lines: batch.lines },
        dropped,
      );
      this.stats.sent += result.accepted;
      this.stats.dropped += result.dropped;
      if (this.spare.length < 2 && batch.w.buf.length <= REUSED_MAX_BYTES) this.spare.push(batch.w);
      this.backoffMs = this.o.backoffMs ?? 500;
      this.retryAt = 0;
    } catch (err) {
      // Put the batch back in front if it fits; if not, it is dropped, never waited for.
      this.stats.failures++;
      if (this.held + batch.lines <= (this.o.maxBuffered ?? 10_000)) {
        this.batches.unshift(batch);
        this.held += batch.lines;
      } else {
        this.stats.dropped += batch.lines;
        this.droppedUnreported += batch.lines;
      }
      this.droppedUnreported += dropped;
      this.retryAt = now + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.o.maxBackoffMs ?? 30_000);
      this.o.onError?.(err as Error);
    } finally {
      this.stats.buffered = this.held;
    }
  }

  private flushSoon(delayMs: number): void {
    if (this.closed) return;
    // A full batch does not wait out the timer a first line set: without this, a burst over
    // maxBatch per flush interval filled the buffer and dropped lines while the sink was idle.
    if (this.timer && !(delayMs === 0 && !this.timerNow)) return;
    clearTimeout(this.timer);
    this.timerNow = delayMs === 0;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }
}
