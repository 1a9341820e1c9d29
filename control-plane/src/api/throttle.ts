// Token buckets per client: a burst is allowed, then requests are refused (HTTP 429 with Retry-After,
// gRPC RESOURCE_EXHAUSTED) until tokens refill, so a flood slows its sender down instead of the
// control plane.

export interface RateLimitOptions {
  /** Tokens a client may spend at once. Default 200. */
  burst?: number;
  /** Tokens added per second. Default 100. */
  perSecond?: number;
  /** Clients tracked at most; full buckets are forgotten first. Default 10,000. */
  maxClients?: number;
  /** Milliseconds now; injected so tests do not sleep. Default Date.now. */
  now?: () => number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(options: RateLimitOptions = {}) {
    this.burst = options.burst ?? 200;
    this.perSecond = options.perSecond ?? 100;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Spends one token of `client`; when none is left, says how long until one is. */
  take(client: string): TakeResult {
    const now = this.now();
    let bucket = this.buckets.get(client);
    if (!bucket) {
      if (this.buckets.size >= this.maxClients) this.forgetIdle(now);
      bucket = { tokens: this.burst, updatedMs: now };
      this.buckets.set(client, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.perSecond);
    bucket.updatedMs = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000) };
  }

  /** Drops buckets that have refilled (their clients are idle); if none, the oldest. */
  private forgetIdle(now: number): void {
    for (const [client, b] of this.buckets) {
      if (b.tokens + ((now - b.updatedMs) / 1000) * this.perSecond >= this.burst) this.buckets.delete(client);
    }
    if (this.buckets.size >= this.maxClients) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }
}
