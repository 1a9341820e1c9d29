// Leases of registry sources: a daemon proves it is alive by syncing (its registrar re-sends the full
// set as a heartbeat). A source not heard from for `ttlMs` has its endpoints marked unhealthy, not
// deleted, so traffic avoids a node that may be gone while nothing is forgotten; its next sync says
// again what is healthy. The agent and catalog sources are exempt: their checks decide their health.
import type { ServiceRegistry } from "../registry/types";
import { AGENT_SOURCE } from "./agent-source";
import { CATALOG_SOURCE } from "./catalog-source";

export interface SourceLeaseOptions {
  /** How long a source may stay silent. Default 30,000 ms. */
  ttlMs?: number;
  /** How often leases are checked. Default ttlMs / 6, at least 100 ms. */
  sweepMs?: number;
  log: (message: string) => void;
  now?: () => number;
}

export class SourceLeases {
  private readonly lastSeen = new Map<string, number>();
  private readonly expired = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  readonly ttlMs: number;

  constructor(
    private readonly registry: ServiceRegistry,
    private readonly options: SourceLeaseOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? 30_000;
    // After a restart every known source gets a full lease: it had no chance to sync yet.
    const start = this.now();
    for (const source of registry.listSources())
      if (source !== AGENT_SOURCE && source !== CATALOG_SOURCE) this.lastSeen.set(source, start);
    this.timer = setInterval(
      () => this.sweep(),
      options.sweepMs ?? Math.max(100, Math.floor(this.ttlMs / 6)),
    );
    this.timer.unref();
  }

  /** The source just synced: its lease starts over. */
  renew(source: string): void {
    this.lastSeen.set(source, this.now());
    if (this.expired.delete(source))
      this.options.log(`source "${source}" is back; its endpoints follow its sync again`);
  }

  /** Marks the endpoints of sources whose lease ran out unhealthy; exposed for tests. */
  sweep(): void {
    const now = this.now();
    for (const [source, seen] of this.lastSeen) {
      if (this.expired.has(source) || now - seen < this.ttlMs) continue;
      this.expired.add(source);
      try {
        const n = this.registry.markSourceUnhealthy(source);
        this.options.log(
          `source "${source}" has not synced for ${now - seen} ms (--source-ttl ${this.ttlMs} ms); marked its ${n} endpoint(s) unhealthy`,
        );
      } catch (err) {
        this.options.log(`could not expire source "${source}": ${(err as Error).message}`);
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
