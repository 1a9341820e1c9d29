// Keeps the daemon's full endpoint set and pushes it to the control plane after every change and on
// start, and again every heartbeatMs so the control plane knows this node is alive (it marks the
// endpoints of a silent node unhealthy after its --source-ttl). Pushes never overlap; changes arriving
// during a push are merged into the next one. While the control plane is away it retries with
// exponential backoff; errors go to the log, never to the engine.
import { TLS_MODE_LABEL, TLS_MODE_MUTUAL } from "../../../proto/mtls-mode";
import type { Clock, Logger } from "../engine/parts";
import type { ContainerState } from "../engine/types";
import type { EndpointRecord, ServiceDeclaration, SyncFn, SyncRequest } from "./types";

export interface RegistrarOptions {
  node: string;
  sync: SyncFn;
  logger: Logger;
  clock: Clock;
  /** First retry delay; doubles up to maxBackoffMs. Default 100. */
  initialBackoffMs?: number;
  /** Default 5000. */
  maxBackoffMs?: number;
  /** The full set is re-sent this often even without changes (the control plane's lease). Default 10,000. */
  heartbeatMs?: number;
}

/** The sync request for a set of running containers (those with a service become endpoints). */
export function syncRequestFor(node: string, containers: ContainerState[]): SyncRequest {
  const source = `daemon:${node}`;
  const endpoints: EndpointRecord[] = [];
  const services = new Map<string, ServiceDeclaration>();
  for (const c of containers) {
    if (!c.service) continue;
    endpoints.push({
      id: c.id,
      service: c.service,
      address: c.address,
      ports: c.ports,
      // A workload with a sidecar takes mutual TLS from other sidecars (Istio's tlsMode label).
      labels: c.sidecar ? { ...c.labels, [TLS_MODE_LABEL]: TLS_MODE_MUTUAL } : c.labels,
      workload: c.name,
      node,
      healthy: true,
      source,
    });
    // Ports of every instance merged, so a service's port list does not depend on which one came first.
    const decl = services.get(c.service) ?? { name: c.service, ports: [] };
    for (const p of c.ports) if (!decl.ports.some((q) => q.port === p.port)) decl.ports.push(p);
    services.set(c.service, decl);
  }
  endpoints.sort((a, b) => a.id.localeCompare(b.id));
  return { source, endpoints, services: [...services.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}

export class Registrar {
  private desired: SyncRequest;
  private dirty = true;
  private running = false;
  private closed = false;
  private failures = 0;
  private wake?: () => void;
  private loop?: Promise<void>;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly heartbeatMs: number;

  constructor(private readonly o: RegistrarOptions) {
    this.desired = syncRequestFor(o.node, []);
    this.initialBackoffMs = o.initialBackoffMs ?? 100;
    this.maxBackoffMs = o.maxBackoffMs ?? 5000;
    this.heartbeatMs = o.heartbeatMs ?? 10_000;
  }

  /** Starts pushing; the first push sends the current set (empty until the engine has loaded). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  update(containers: ContainerState[]): void {
    this.desired = syncRequestFor(this.o.node, containers);
    this.dirty = true;
    this.wake?.();
  }

  /** The set last handed to update(), as it will be sent. */
  current(): SyncRequest {
    return this.desired;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      if (!this.dirty) {
        // Wait for a change, or send the same set again as a heartbeat when none comes.
        await this.idle(this.heartbeatMs);
        this.dirty = true;
        continue;
      }
      this.dirty = false;
      const request = this.desired;
      try {
        await this.o.sync(request);
        if (this.failures > 0) this.o.logger.info(`registration: control plane reachable again`);
        this.failures = 0;
      } catch (err) {
        this.dirty = true;
        this.failures++;
        const delay = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (this.failures - 1));
        // One line per outage, then quiet every tenth try, so a long outage does not flood the log.
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.o.logger.warn(
            `registration: sync of ${request.endpoints.length} endpoint(s) failed (${(err as Error).message}); retrying every ≤${this.maxBackoffMs} ms`,
          );
        }
        await this.sleepUnlessClosed(delay);
      }
    }
  }

  /**
   * Waits `ms` or until woken. Its own timer, cleared on wake, instead of clock.sleep: a pending
   * heartbeat must not keep a stopping daemon's event loop alive for up to heartbeatMs.
   */
  private async idle(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private async sleepUnlessClosed(ms: number): Promise<void> {
    await Promise.race([
      this.o.clock.sleep(ms),
      new Promise<void>((resolve) => {
        this.wake = resolve;
      }),
    ]);
    this.wake = undefined;
  }
}
