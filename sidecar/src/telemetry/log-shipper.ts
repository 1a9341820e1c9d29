// Ships log lines to a sink in batches with a bounded buffer. push() never waits and never throws:
// when the buffer is full (the sink is slow or down) the line is dropped and counted, and the count
// travels with the next batch that gets through, so losses show up at the control plane.
export interface ShippedLine {
  /** Nanoseconds since the Unix epoch, as a decimal string (0 = when received). */
  timeUnixNano: string;
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

/** Sends one batch; rejects when the sink cannot be reached. */
export type SendBatch = (lines: ShippedLine[], droppedSinceLast: number) => Promise<SinkResult>;

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
  private buffer: ShippedLine[] = [];
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
    if (this.buffer.length >= (this.o.maxBuffered ?? 10_000)) {
      this.stats.dropped++;
      this.droppedUnreported++;
      return;
    }
    this.buffer.push(line);
    this.stats.buffered = this.buffer.length;
    // While backing off after a failure, the retry timer stands.
    if (this.buffer.length >= (this.o.maxBatch ?? 500) && this.retryAt === 0) this.flushSoon(0);
    else this.flushSoon(this.o.flushIntervalMs ?? 1000);
  }

  /** Sends one batch of what is buffered now; resolves when it is done (joins one in flight). */
  flush(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.buffer.length === 0) return Promise.resolve();
    const now = (this.o.now ?? Date.now)();
    if (now < this.retryAt) {
      this.flushSoon(this.retryAt - now);
      return Promise.resolve();
    }
    this.inflight = this.sendBatch(now).finally(() => {
      this.inflight = undefined;
      if (this.buffer.length > 0 && !this.closed) this.flushSoon(this.retryAt > now ? this.retryAt - now : 0);
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
    while (this.buffer.length > 0) {
      const failures = this.stats.failures;
      await this.flush();
      if (this.stats.failures > failures) break;
    }
  }

  private async sendBatch(now: number): Promise<void> {
    const batch = this.buffer.splice(0, this.o.maxBatch ?? 500);
    const dropped = this.droppedUnreported;
    this.droppedUnreported = 0;
    try {
      const result = await this.o.send(batch, dropped);
      this.stats.sent += result.accepted;
      this.stats.dropped += result.dropped;
      this.backoffMs = this.o.backoffMs ?? 500;
      this.retryAt = 0;
    } catch (err) {
      // Put the batch back in front if it fits; what does not fit is dropped, never waited for.
      this.stats.failures++;
      const room = (this.o.maxBuffered ?? 10_000) - this.buffer.length;
      const kept = batch.slice(Math.max(0, batch.length - room));
      this.buffer.unshift(...kept);
      this.stats.dropped += batch.length - kept.length;
      this.droppedUnreported += dropped + batch.length - kept.length;
      this.retryAt = now + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.o.maxBackoffMs ?? 30_000);
      this.o.onError?.(err as Error);
    } finally {
      this.stats.buffered = this.buffer.length;
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
