// The last good config: what the listeners route by. Updates are applied whole or not at all, so a
// rejected response (NACK) leaves the previous state serving. Endpoints, routes and policies are
// held only for the services this sidecar subscribed to; a listener that needs a service's
// endpoints for the first time can wait for them to arrive.

import type {
  ConfigUpdate,
  EndpointConfig,
  PolicyConfig,
  PortConfig,
  ServiceConfig,
  ServiceRoutesConfig,
  TelemetrySettings,
} from "./types";
import { checkServiceSet } from "./validate";

export interface ServiceTarget {
  service: ServiceConfig;
  port: PortConfig;
}

export interface ConfigVersions {
  services: string;
  endpoints: string;
  routes: string;
  policies: string;
  telemetry: string;
}

export interface ConfigDump {
  versions: ConfigVersions;
  ready: boolean;
  services: ServiceConfig[];
  endpoints: Record<string, EndpointConfig[]>;
  /** Routes per service (applied to traffic in a later version; shown here as received). */
  routes: Record<string, ServiceRoutesConfig>;
  policies: Record<string, PolicyConfig>;
  telemetry: Record<string, TelemetrySettings>;
  lastRejected?: { type: string; reason: string; at: string };
}

const NO_ENDPOINTS: readonly EndpointConfig[] = [];

export class ConfigStore {
  private services = new Map<string, ServiceConfig>();
  private endpoints = new Map<string, EndpointConfig[]>();
  /** healthyEndpoints' answer per endpoint list: a push brings new lists, so this never goes stale,
   * and a request needs no filtered copy of its own. */
  private readonly healthyOf = new WeakMap<EndpointConfig[], EndpointConfig[]>();
  private routes = new Map<string, ServiceRoutesConfig>();
  private policies = new Map<string, PolicyConfig>();
  private telemetry = new Map<string, TelemetrySettings>();
  private readonly telemetryListeners: Array<() => void> = [];
  private byVip = new Map<string, ServiceTarget>();
  /** Services by virtual IP alone, to tell a wrong port of a VIP from an address outside the mesh. */
  private byVipAddress = new Map<string, ServiceConfig>();
  /** Services by lower-cased name, for DNS (case-insensitive): see serviceForDns. */
  private byLowerName = new Map<string, ServiceConfig>();
  private readonly versionOf: Partial<ConfigVersions> = {};
  private rejected: ConfigDump["lastRejected"];
  private readonly rejectionCounts = new Map<string, number>();
  private readonly endpointWaiters = new Map<string, Set<() => void>>();

  /** Applies a validated Service update; throws (and changes nothing) when the result conflicts. */
  applyServices(update: ConfigUpdate<ServiceConfig>, version: string): void {
    const next = merge(this.services, update);
    checkServiceSet(next.values());
    this.services = next;
    this.byVip = new Map();
    this.byVipAddress = new Map();
    this.byLowerName = new Map();
    for (const s of next.values()) {
      const lower = s.name.toLowerCase();
      const taken = this.byLowerName.get(lower);
      // Names that differ only in case: the lower-case one, else the first in code-point order.
      if (!taken || (taken.name !== lower && (s.name === lower || s.name < taken.name)))
        this.byLowerName.set(lower, s);
      if (!s.virtualIp) continue;
      this.byVipAddress.set(s.virtualIp, s);
      for (const port of s.ports) this.byVip.set(`${s.virtualIp}:${port.port}`, { service: s, port });
    }
    this.versionOf.services = version;
  }

  /** Applies a validated ServiceEndpoints update (keyed by service name); wakes waiting listeners. */
  applyEndpoints(update: ConfigUpdate<EndpointConfig[]>, version: string): void {
    this.endpoints = merge(this.endpoints, update);
    this.versionOf.endpoints = version;
    for (const name of update.resources.keys()) {
      const waiters = this.endpointWaiters.get(name);
      this.endpointWaiters.delete(name);
      for (const wake of waiters ?? []) wake();
    }
  }

  applyRoutes(update: ConfigUpdate<ServiceRoutesConfig>, version: string): void {
    this.routes = merge(this.routes, update);
    this.versionOf.routes = version;
  }

  applyPolicies(update: ConfigUpdate<PolicyConfig>, version: string): void {
    this.policies = merge(this.policies, update);
    this.versionOf.policies = version;
  }

  applyTelemetry(update: ConfigUpdate<TelemetrySettings>, version: string): void {
    this.telemetry = merge(this.telemetry, update);
    this.versionOf.telemetry = version;
    for (const listener of this.telemetryListeners) listener();
  }

  /** Calls `listener` after every telemetry update (tracing and logging settings change live). */
  onTelemetry(listener: () => void): void {
    this.telemetryListeners.push(listener);
  }

  /** Remembers why a response was refused, for /config_dump. */
  noteRejected(type: string, reason: string): void {
    this.rejected = { type, reason, at: new Date().toISOString() };
    this.rejectionCounts.set(type, (this.rejectionCounts.get(type) ?? 0) + 1);
  }

  /** How many responses of each type were refused since start (for metrics). */
  get rejections(): ReadonlyMap<string, number> {
    return this.rejectionCounts;
  }

  /** True once a Service response has been accepted: the sidecar knows which names are the mesh's. */
  get ready(): boolean {
    return this.versionOf.services !== undefined;
  }

  get versions(): ConfigVersions {
    const v = this.versionOf;
    return {
      services: v.services ?? "",
      endpoints: v.endpoints ?? "",
      routes: v.routes ?? "",
      policies: v.policies ?? "",
      telemetry: v.telemetry ?? "",
    };
  }

  /** The service (and port) whose virtual IP:port this is, if any. */
  serviceAt(address: string, port: number): ServiceTarget | undefined {
    return this.byVip.get(`${address}:${port}`);
  }

  /** The service whose virtual IP this is, whatever the port. */
  serviceWithVip(address: string): ServiceConfig | undefined {
    return this.byVipAddress.get(address);
  }

  service(name: string): ServiceConfig | undefined {
    return this.services.get(name);
  }

  /**
   * The service a DNS name stands for, whatever its case: DNS names are case-insensitive (and
   * resolvers randomize the case of what they ask, "dns-0x20"), while registries keep the case a
   * service was registered with (a Consul client's "PaymentService").
   */
  serviceForDns(name: string): ServiceConfig | undefined {
    return this.services.get(name) ?? this.byLowerName.get(name.toLowerCase());
  }

  serviceNames(): string[] {
    return [...this.services.keys()];
  }

  /** Whether the endpoints of the service have arrived (an empty list counts: it is an answer). */
  hasEndpoints(service: string): boolean {
    return this.endpoints.has(service);
  }

  /** Resolves true when the service's endpoints are here (at once if they are), false after timeoutMs. */
  waitForEndpoints(service: string, timeoutMs: number): Promise<boolean> {
    if (this.endpoints.has(service)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.endpointWaiters.get(service)?.delete(wake);
        resolve(false);
      }, timeoutMs);
      const set = this.endpointWaiters.get(service) ?? new Set<() => void>();
      this.endpointWaiters.set(service, set);
      set.add(wake);
    });
  }

  /** The endpoints of a service that may take traffic: the same array until its endpoints change. */
  healthyEndpoints(service: string): readonly EndpointConfig[] {
    const all = this.endpoints.get(service);
    if (!all) return NO_ENDPOINTS;
    let healthy = this.healthyOf.get(all);
    if (!healthy) {
      healthy = all.filter((e) => e.healthy);
      this.healthyOf.set(all, healthy);
    }
    return healthy;
  }

  routesFor(service: string): ServiceRoutesConfig | undefined {
    return this.routes.get(service);
  }

  policyFor(service: string): PolicyConfig | undefined {
    return this.policies.get(service);
  }

  /** The service's own telemetry settings, else "default". */
  telemetryFor(service: string): TelemetrySettings | undefined {
    return this.telemetry.get(service) ?? this.telemetry.get("default");
  }

  dump(): ConfigDump {
    const dump: ConfigDump = {
      versions: this.versions,
      ready: this.ready,
      services: [...this.services.values()],
      endpoints: Object.fromEntries(this.endpoints),
      routes: Object.fromEntries(this.routes),
      policies: Object.fromEntries(this.policies),
      telemetry: Object.fromEntries(this.telemetry),
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
