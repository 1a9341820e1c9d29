// Removes "implied" services that nothing runs any more. A service that exists only because a
// container or an agent registration named it (`weft run --service S`, Consul's agent API) goes away
// once its last endpoint has been gone for `ttlMs`, as a Consul service does with its last instance;
// the wait lets a replacement (a restart, a rolling update) arrive first without the sidecars dropping
// the service. A configured service (a Service manifest) stays until its manifest is deleted, and so
// does one that config names (a Route, a ResiliencePolicy, a Telemetry of its own): applying those
// again must not fail for a service that is only scaled to zero. The removed name keeps its virtual IP
// for when it returns (SqliteRegistry.removeIdleImplied).
import type { ServiceRegistry } from "./types";

export interface IdleReaperOptions {
  /** How long an implied service may have no endpoint. Default 60,000 ms. */
  ttlMs?: number;
  /** How often services are checked. Default ttlMs / 6, at least 100 ms. */
  sweepMs?: number;
  log: (message: string) => void;
  /** Whether config names the service (it then stays). Default: none does. */
  namedByConfig?: (service: string) => boolean;
  now?: () => number;
}

export class IdleServiceReaper {
  /** Implied services without endpoints, and since when (as first seen by a sweep). */
  private readonly idleSince = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  readonly ttlMs: number;

  constructor(
    private readonly registry: ServiceRegistry,
    private readonly options: IdleReaperOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? 60_000;
    // After a restart an idle service gets its full wait again: its sources had no chance to sync.
    this.sweep();
    this.timer = setInterval(
      () => this.sweep(),
      options.sweepMs ?? Math.max(100, Math.floor(this.ttlMs / 6)),
    );
    this.timer.unref();
  }

  /** Removes the implied services idle for `ttlMs` or longer; exposed for tests. */
  sweep(): void {
    const now = this.now();
    try {
      const counts = this.registry.endpointCounts();
      const idle = new Set<string>();
      for (const s of this.registry.listServices())
        if (s.origin === "implied" && !counts.get(s.name) && !this.options.namedByConfig?.(s.name))
          idle.add(s.name);
      for (const name of this.idleSince.keys()) if (!idle.has(name)) this.idleSince.delete(name);
      const due: string[] = [];
      for (const name of idle) {
        const since = this.idleSince.get(name) ?? now;
        this.idleSince.set(name, since);
        if (now - since >= this.ttlMs) due.push(name);
      }
      if (due.length === 0) return;
      const removed = this.registry.removeIdleImplied(due);
      for (const name of removed) this.idleSince.delete(name);
      if (removed.length > 0)
        this.options.log(
          `removed service(s) ${removed.join(", ")}: no endpoint for ${this.ttlMs} ms and no Service config (--idle-service-ttl)`,
        );
    } catch (err) {
      this.options.log(`could not remove idle services: ${(err as Error).message}`);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
