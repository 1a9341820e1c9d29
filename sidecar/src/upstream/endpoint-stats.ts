// What the sidecar knows about one endpoint of one service: attempts in flight, a peak-EWMA latency
// estimate (Linkerd's load metric) and the outlier-detection state. Keyed by "address:port", so an
// endpoint that comes back under the same address keeps nothing stale beyond its ejection.
import type { EndpointConfig, PortConfig } from "../config/types";

/** Latency a new endpoint is assumed to have when no peer has any (Linkerd's default RTT). */
export const DEFAULT_RTT_MS = 30;
/** How fast old latency samples fade (Linkerd: 10 s). */
export const EWMA_DECAY_MS = 10_000;
/** What a failed attempt costs in the latency estimate, so a fast-failing endpoint looks slow. */
export const FAILURE_PENALTY_MS = 1_000;

export class EndpointStats {
  readonly key: string;
  endpoint: EndpointConfig;
  port: number;
  /** Attempts (HTTP) or connections (TCP) sent here and not yet ended. */
  inFlight = 0;
  private ewmaMs: number;
  private stampMs: number;
  // Outlier detection (outlier-detection.ts owns the rules).
  consecutive5xx = 0;
  consecutiveConnectFailures = 0;
  /** Ejected until this time (ms on the injected clock); 0: not ejected. */
  ejectedUntilMs = 0;
  /** How many times it was ejected, less one per quiet interval since (sets the next ejection's length). */
  timesEjected = 0;
  /** When it last came back from an ejection. */
  returnedAtMs = 0;

  constructor(endpoint: EndpointConfig, port: number, initialRttMs: number, nowMs: number) {
    this.endpoint = endpoint;
    this.port = port;
    this.key = endpointKey(endpoint.address, port);
    this.ewmaMs = initialRttMs;
    this.stampMs = nowMs;
  }

  /**
   * The latency estimate now: it decays toward zero while no response comes (as tower's PeakEwma),
   * so an endpoint that was slow once gets probed again later rather than never.
   */
  rttMs(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.stampMs);
    return this.ewmaMs * Math.exp(-elapsed / EWMA_DECAY_MS);
  }

  /** Load-balancing cost: latency times work queued here (Linkerd's P2C peak EWMA). */
  cost(nowMs: number): number {
    return this.rttMs(nowMs) * (this.inFlight + 1);
  }

  /** One observed latency: a peak is taken at once, a dip is averaged in. */
  observe(latencyMs: number, nowMs: number): void {
    const w = Math.exp(-Math.max(0, nowMs - this.stampMs) / EWMA_DECAY_MS);
    // A sample only moves the estimate as far as the time since the last one warrants.
    this.ewmaMs = latencyMs > this.ewmaMs * w ? latencyMs : this.ewmaMs * w + latencyMs * (1 - w);
    this.stampMs = nowMs;
  }
}

export function endpointKey(address: string, port: number): string {
  return `${address}:${port}`;
}

/**
 * Which endpoint port serves a service port: the one with the same name, else the same number
 * (an endpoint that lists no ports serves the service port as is).
 */
export function endpointPort(endpoint: EndpointConfig, servicePort: PortConfig): number {
  if (servicePort.name) {
    const named = endpoint.ports.find((p) => p.name === servicePort.name);
    if (named) return named.port;
  }
  return servicePort.port;
}
