// The published ports of every container: one forwarder per spec, grouped by container so that stop,
// remove and adoption deal with a container's ports as a whole.
import type { Logger } from "../engine/parts";
import type { PublishedPort, PublishSpec } from "../engine/types";
import { TcpForwarder } from "./forwarder";

interface Published {
  forwarders: TcpForwarder[];
  ports: PublishedPort[];
}

export class PortPublisher {
  private readonly byContainer = new Map<string, Published>();
  private readonly logger: Logger;

  constructor(o: { logger: Logger }) {
    this.logger = o.logger;
  }

  /**
   * Listens on hostIp:hostPort for each spec and pipes to address:containerPort (through the
   * sidecar's inbound capture). PORT_IN_USE (RuntimeError) names the port and what to do;
   * all-or-nothing: on any failure the ports already bound for this call are released. A container
   * published again (adoption, restart) has its earlier ports released first.
   */
  async publish(id: string, address: string, specs: PublishSpec[]): Promise<PublishedPort[]> {
    await this.unpublish(id);
    const forwarders: TcpForwarder[] = [];
    const ports: PublishedPort[] = [];
    try {
      for (const spec of specs) {
        const f = new TcpForwarder({ address, port: spec.containerPort }, this.logger);
        forwarders.push(f);
        const hostPort = await f.listen(spec.hostIp, spec.hostPort);
        ports.push({ ...spec, hostPort });
      }
    } catch (err) {
      await Promise.all(forwarders.map((f) => f.close()));
      throw err;
    }
    if (forwarders.length > 0) this.byContainer.set(id, { forwarders, ports });
    return ports;
  }

  /** The ports bound for a container (empty when none). */
  published(id: string): PublishedPort[] {
    return this.byContainer.get(id)?.ports ?? [];
  }

  /** Closes the container's listeners and its open connections; idempotent. */
  async unpublish(id: string): Promise<void> {
    const p = this.byContainer.get(id);
    if (!p) return;
    this.byContainer.delete(id);
    await Promise.all(p.forwarders.map((f) => f.close()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.byContainer.keys()].map((id) => this.unpublish(id)));
  }
}
