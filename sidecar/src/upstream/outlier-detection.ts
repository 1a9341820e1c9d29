// Outlier detection, as Envoy's: an endpoint that answers 5xx (or fails to connect) several times
// in a row is ejected, taking no traffic for a time that grows with each ejection, while never more
// than a share of the service's endpoints is out at once. Checked when outcomes arrive and when an
// endpoint is picked (no timers: the sidecar's clock is injected, and an idle service costs nothing).
import type { PolicyConfig } from "../config/types";
import type { EndpointStats } from "./endpoint-stats";

export interface OutlierSettings {
  /** Consecutive 5xx responses (resets and per-try timeouts count as 5xx) that eject. Default 5. */
  consecutive5xx: number;
  /** Consecutive connect failures that eject. Default 5. */
  consecutiveConnectFailures: number;
  /** First ejection's length; the n-th lasts n times as long. Default 30 s. */
  baseEjectionTimeMs: number;
  /** The longest an ejection lasts. 300 s. */
  maxEjectionTimeMs: number;
  /** Each interval an endpoint stays in, one past ejection is forgiven. Default 10 s. */
  intervalMs: number;
  /** At most this share of the endpoints is ejected, but at least one of two or more. Default 0.5. */
  maxEjectionRatio: number;
}

export const OUTLIER_DEFAULTS: OutlierSettings = {
  consecutive5xx: 5,
  consecutiveConnectFailures: 5,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  intervalMs: 10_000,
  maxEjectionRatio: 0.5,
};

/** The policy's fields over the defaults (0 in a field means the default, as proto3 sends unset). */
export function outlierSettings(policy: PolicyConfig | undefined): OutlierSettings {
  const o = policy?.outlierDetection;
  if (!o) return OUTLIER_DEFAULTS;
  return {
    consecutive5xx: o.consecutive5xx || OUTLIER_DEFAULTS.consecutive5xx,
    consecutiveConnectFailures: o.consecutiveConnectFailures || OUTLIER_DEFAULTS.consecutiveConnectFailures,
    baseEjectionTimeMs: o.baseEjectionTimeMs || OUTLIER_DEFAULTS.baseEjectionTimeMs,
    maxEjectionTimeMs: Math.max(OUTLIER_DEFAULTS.maxEjectionTimeMs, o.baseEjectionTimeMs),
    intervalMs: o.intervalMs || OUTLIER_DEFAULTS.intervalMs,
    maxEjectionRatio: o.maxEjectionRatio || OUTLIER_DEFAULTS.maxEjectionRatio,
  };
}

/** How an attempt ended, as outlier detection sees it. */
export type OutlierSignal = "success" | "5xx" | "connect-failure";

export interface OutlierEvents {
  ejected(stats: EndpointStats, durationMs: number, reason: string): void;
  returned(stats: EndpointStats): void;
}

export class OutlierDetector {
  constructor(private readonly events: OutlierEvents) {}

  /**
   * Records one attempt's outcome at `stats`; ejects it when a threshold is reached and the cap
   * allows. `peers` is every endpoint of the service (the cap is a share of them).
   */
  record(
    stats: EndpointStats,
    signal: OutlierSignal,
    peers: Iterable<EndpointStats>,
    settings: OutlierSettings,
    nowMs: number,
  ): void {
    if (signal === "success") {
      stats.consecutive5xx = 0;
      stats.consecutiveConnectFailures = 0;
      return;
    }
    if (signal === "5xx") stats.consecutive5xx++;
    else stats.consecutiveConnectFailures++;
    if (this.isEjected(stats, nowMs)) return; // a late answer from before the ejection
    let reason: string | undefined;
    if (stats.consecutive5xx >= settings.consecutive5xx) reason = `${stats.consecutive5xx} consecutive 5xx`;
    else if (stats.consecutiveConnectFailures >= settings.consecutiveConnectFailures)
      reason = `${stats.consecutiveConnectFailures} consecutive connect failures`;
    if (!reason || !this.mayEject(peers, settings, nowMs)) return;
    const forgiven = stats.returnedAtMs ? Math.floor((nowMs - stats.returnedAtMs) / settings.intervalMs) : 0;
    stats.timesEjected = Math.max(0, stats.timesEjected - forgiven) + 1;
    const durationMs = Math.min(settings.baseEjectionTimeMs * stats.timesEjected, settings.maxEjectionTimeMs);
    stats.ejectedUntilMs = nowMs + durationMs;
    stats.consecutive5xx = 0;
    stats.consecutiveConnectFailures = 0;
    this.events.ejected(stats, durationMs, reason);
  }

  /** True while `stats` is ejected; brings it back (and says so) once its time is up. */
  isEjected(stats: EndpointStats, nowMs: number): boolean {
    if (stats.ejectedUntilMs === 0) return false;
    if (nowMs < stats.ejectedUntilMs) return true;
    stats.ejectedUntilMs = 0;
    stats.returnedAtMs = nowMs;
    this.events.returned(stats);
    return false;
  }

  private mayEject(peers: Iterable<EndpointStats>, settings: OutlierSettings, nowMs: number): boolean {
    let total = 0;
    let ejected = 0;
    for (const p of peers) {
      total++;
      if (this.isEjected(p, nowMs)) ejected++;
    }
    // Envoy ejects at least one whatever the ratio; one endpoint alone is never ejected, since
    // traffic would go to it anyway (panic) and the ejection would only hide it in metrics.
    const cap = total >= 2 ? Math.max(1, Math.floor(total * settings.maxEjectionRatio)) : 0;
    return ejected < cap;
  }
}
