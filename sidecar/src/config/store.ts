// The last good config: what the listeners route by. Updates are applied whole or not at all, so a
// rejected response (NACK) leaves the previous state serving.

import type { ConfigUpdate, EndpointConfig, PortConfig, ServiceConfig } from "./types";
import { checkServiceSet } from "./validate";

export interface ServiceTarget {
  service: ServiceConfig;
  port: PortConfig;
}

export interface ConfigDump {
  versions: { services: string; endpoints: string };
  ready: boolean;
  services: ServiceConfig[];
  endpoints: Record<string, EndpointConfig[]>;
  lastRejected?: { type: string; reason: string; at: string };
}

export class ConfigStore {
  private services = new Map<string, ServiceConfig>();
  private endpoints = new Map<string, EndpointConfig[]>();
  private byVip = new Map<string, ServiceTarget>();
  private servicesVersion: string | undefined;
  private endpointsVersion: string | undefined;
  private rejected: ConfigDump["lastRejected"];

  /** Applies a validated Service update; throws (and changes nothing) when the result conflicts. */
  applyServices(update: ConfigUpdate<ServiceConfig>, version: string): void {
    const next = merge(this.services, update);
    checkServiceSet(next.values());
    this.services = next;
    this.byVip = new Map();
    for (const s of next.values()) {
      if (!s.virtualIp) continue;
      for (const port of s.ports) this.byVip.set(`${s.virtualIp}:${port.port}`, { service: s, port });
    }
    this.servicesVersion = version;
  }

  /** Applies a validated ServiceEndpoints update (keyed by service name). */
  applyEndpoints(update: ConfigUpdate<EndpointConfig[]>, version: string): void {
    this.endpoints = merge(this.endpoints, update);
    this.endpointsVersion = version;
  }

  /** Remembers why a response was refused, for /config_dump. */
  noteRejected(type: string, reason: string): void {
    this.rejected = { type, reason, at: new Date().toISOString() };
  }

  /** True once a Service and an Endpoints response have both been accepted. */
  get ready(): boolean {
    return this.servicesVersion !== undefined && this.endpointsVersion !== undefined;
  }

  get versions(): { services: string; endpoints: string } {
    return { services: this.servicesVersion ?? "", endpoints: this.endpointsVersion ?? "" };
  }

  /** The service (and port) whose virtual IP:port this is, if any. */
  serviceAt(address: string, port: number): ServiceTarget | undefined {
    return this.byVip.get(`${address}:${port}`);
  }

  service(name: string): ServiceConfig | undefined {
    return this.services.get(name);
  }

  serviceNames(): string[] {
    return [...this.services.keys()];
  }

  /** The endpoints of a service that may take traffic. */
  healthyEndpoints(service: string): EndpointConfig[] {
    return (this.endpoints.get(service) ?? []).filter((e) => e.healthy);
  }

  dump(): ConfigDump {
    const endpoints: Record<string, EndpointConfig[]> = {};
    for (const [name, list] of this.endpoints) endpoints[name] = list;
    const dump: ConfigDump = {
      versions: this.versions,
      ready: this.ready,
      services: [...this.services.values()],
      endpoints,
    };
    if (this.rejected) dump.lastRejected = this.rejected;
    return dump;
  }
}

function merge<T>(current: Map<string, T>, update: ConfigUpdate<T>): Map<string, T> {
  if (!update.incremental) return new Map(update.resources);
  const next = new Map(current);
  for (const name of update.removed) next.delete(name);
  for (const [name, value] of update.resources) next.set(name, value);
  return next;
}
