// The Consul-compatible agent as a registry source ("agent"): services registered over
// /v1/agent/service/register become endpoints, their checks decide whether those endpoints are
// healthy, and every change is a full-state sync of the "agent" source, so the daemons' endpoints
// are never touched.
import {
  type Endpoint,
  type EndpointInput,
  PROTOCOLS,
  type Protocol,
  type ServiceRegistry,
} from "../registry/types";
import {
  type AgentServiceDefinition,
  type CheckDefinition,
  type CheckStatus,
  type ConsulService,
  canonicalJson,
} from "./agent-definition";
import type { AgentStore, CheckResult, StoredAgentService } from "./agent-store";
import { HealthChecker } from "./health-checker";

export const AGENT_SOURCE = "agent";

/** Every change re-syncs the whole agent source, so its size is bounded. */
export const MAX_AGENT_SERVICES = 10_000;

export interface AgentOptions {
  /** The node the agent's services run on (Consul's agent NodeName). */
  nodeName: string;
  /** The agent's own address, used for services registered without one. Default "127.0.0.1". */
  address?: string;
  log: (message: string) => void;
  now?: () => number;
  /** How often services critical for DeregisterCriticalServiceAfter are reaped. Default 1000 ms. */
  reapIntervalMs?: number;
}

export class AgentError extends Error {
  constructor(
    readonly code: "UNKNOWN_SERVICE" | "UNKNOWN_CHECK" | "NOT_TTL" | "TOO_MANY" | "BAD_ADDRESS",
    message: string,
  ) {
    super(message);
  }
}

export class AgentSource {
  private readonly services = new Map<string, StoredAgentService>();
  /** What Consul clients saw of each service at the last sync (consulView), to tell the registry
   * which endpoints changed only in what it does not hold (tags, a check's status). */
  private published = new Map<string, string>();
  private readonly checker: HealthChecker;
  private readonly reaper: NodeJS.Timeout;
  private readonly now: () => number;
  readonly address: string;

  constructor(
    private readonly registry: ServiceRegistry,
    private readonly store: AgentStore,
    private readonly options: AgentOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.address = options.address ?? "127.0.0.1";
    this.checker = new HealthChecker((id, status, output) => this.record(id, status, output), options.log);
    for (const stored of store.load()) {
      this.services.set(stored.definition.id, stored);
      // As published before the restart: coming back is no change a blocking query should see.
      this.published.set(stored.definition.id, consulView(stored));
    }
    this.publish();
    for (const s of this.services.values()) for (const c of s.definition.checks) this.checker.start(c);
    this.reaper = setInterval(() => this.reap(), options.reapIntervalMs ?? 1000);
    this.reaper.unref();
  }

  get nodeName(): string {
    return this.options.nodeName;
  }

  /** Adds or replaces the service with this ID; checks keep their result when their ID stays. */
  register(definition: AgentServiceDefinition): void {
    const previous = this.services.get(definition.id);
    if (!previous && this.services.size >= MAX_AGENT_SERVICES) {
      throw new AgentError(
        "TOO_MANY",
        `the agent holds ${MAX_AGENT_SERVICES} services already; deregister some before adding more`,
      );
    }
    const address = definition.address || this.address;
    const problem = this.registry.endpointAddressProblem(address);
    if (problem)
      throw new AgentError(
        "BAD_ADDRESS",
        `Address ${address} ${problem}: give the service's own address${definition.address ? "" : " (the agent's own is used when Address is left out)"}`,
      );
    for (const c of previous?.definition.checks ?? []) this.checker.stop(c.id);
    const results: Record<string, CheckResult> = {};
    for (const c of definition.checks) {
      results[c.id] = previous?.results[c.id] ?? this.result(c.initialStatus, "", undefined);
    }
    const stored = { definition, results };
    this.services.set(definition.id, stored);
    this.store.save(stored);
    this.publish();
    for (const c of definition.checks) this.checker.start(c);
  }

  deregister(id: string): void {
    const stored = this.services.get(id);
    if (!stored)
      throw new AgentError(
        "UNKNOWN_SERVICE",
        `Unknown service ID "${id}"; list them with GET /v1/agent/services`,
      );
    for (const c of stored.definition.checks) this.checker.stop(c.id);
    this.services.delete(id);
    this.store.remove(id);
    this.publish();
  }

  /** PUT /v1/agent/check/pass|warn|fail/ID: sets a TTL check's status and restarts its TTL. */
  updateTtl(checkId: string, status: CheckStatus, output: string): void {
    const found = this.findCheck(checkId);
    if (!found)
      throw new AgentError(
        "UNKNOWN_CHECK",
        `Unknown check ID "${checkId}"; list them with GET /v1/agent/checks`,
      );
    if (found.kind !== "ttl") {
      throw new AgentError(
        "NOT_TTL",
        `check "${checkId}" is a ${found.kind.toUpperCase()} check; only TTL checks are updated by clients`,
      );
    }
    this.checker.touchTtl(found);
    this.record(checkId, status, output);
  }

  list(): StoredAgentService[] {
    return [...this.services.values()];
  }

  /** The agent's view of one registry endpoint (tags, checks), when the agent registered it. */
  serviceOf(e: Endpoint): StoredAgentService | undefined {
    return e.source === AGENT_SOURCE ? this.services.get(e.id) : undefined;
  }

  close(): void {
    clearInterval(this.reaper);
    this.checker.close();
  }

  private findCheck(checkId: string): CheckDefinition | undefined {
    for (const s of this.services.values()) {
      const c = s.definition.checks.find((x) => x.id === checkId);
      if (c) return c;
    }
    return undefined;
  }

  private result(status: CheckStatus, output: string, previous: CheckResult | undefined): CheckResult {
    const criticalSinceMs = status !== "critical" ? 0 : previous?.criticalSinceMs || this.now();
    return { status, output, criticalSinceMs };
  }

  private record(checkId: string, status: CheckStatus, output: string): void {
    for (const s of this.services.values()) {
      const previous = s.results[checkId];
      if (!previous) continue;
      if (previous.status === status && previous.output === output) return;
      s.results[checkId] = this.result(status, output, previous);
      this.store.save(s);
      // Any status change is one (warning -> critical too, though the endpoint stays unhealthy);
      // output alone is not, as Consul's agent holds steady-state output back (check_update_interval)
      // rather than wake every watcher on each run of a check whose output varies.
      if (previous.status !== status) this.publish();
      return;
    }
  }

  /** Consul's DeregisterCriticalServiceAfter: services whose check stayed critical too long go away. */
  private reap(): void {
    const now = this.now();
    for (const s of [...this.services.values()]) {
      const expired = s.definition.checks.some((c) => {
        const r = s.results[c.id];
        return (
          c.deregisterAfterMs > 0 &&
          r?.status === "critical" &&
          r.criticalSinceMs > 0 &&
          now - r.criticalSinceMs >= c.deregisterAfterMs
        );
      });
      if (expired) {
        this.options.log(
          `agent: deregistering service "${s.definition.id}": critical longer than DeregisterCriticalServiceAfter`,
        );
        this.deregister(s.definition.id);
      }
    }
  }

  /** Full-state sync of the "agent" source; an endpoint is healthy when every check of it passes. */
  private publish(): void {
    const endpoints = [...this.services.values()].map(({ definition: d, results }) =>
      consulEndpoint(
        d,
        this.address,
        this.options.nodeName,
        d.checks.every((c) => results[c.id]?.status === "passing"),
      ),
    );
    // One kept from before a --service-cidr change may now lie in the VIP range: left out (and
    // said), so that it does not stop every other service of the agent from being published.
    const routable = endpoints.filter((e) => {
      const problem = this.registry.endpointAddressProblem(e.address);
      if (problem)
        this.options.log(`agent: service "${e.id}" is not published: address ${e.address} ${problem}`);
      return !problem;
    });
    const views = new Map([...this.services.values()].map((s) => [s.definition.id, consulView(s)]));
    const touched = new Set<string>();
    for (const [id, view] of views) {
      const before = this.published.get(id);
      if (before !== undefined && before !== view) touched.add(id);
    }
    try {
      this.registry.syncEndpoints(AGENT_SOURCE, routable, [], { touched });
      this.published = views;
    } catch (err) {
      this.options.log(`agent: registry sync failed: ${(err as Error).message}`);
    }
  }
}

export type { CheckStatus };

/** What a Consul client sees of an agent service beyond its registry endpoint: its whole definition
 * (tags, checks, weights, ...) and each check's status. */
function consulView({ definition, results }: StoredAgentService): string {
  return canonicalJson([definition, definition.checks.map((c) => results[c.id]?.status ?? "")]);
}

/** A Consul-style service's `meta.protocol`, as one of the port protocols ("auto" when absent or unknown). */
function agentProtocol(value: string | undefined): Protocol {
  return (PROTOCOLS as readonly string[]).includes(value ?? "") ? (value as Protocol) : "auto";
}

/** The registry endpoint of a Consul service registered on `node` (the agent's, or a catalog node). */
export function consulEndpoint(
  s: ConsulService,
  nodeAddress: string,
  node: string,
  healthy: boolean,
): EndpointInput {
  return {
    id: s.id,
    service: s.name,
    address: s.address || nodeAddress,
    ports: s.port > 0 ? [{ name: "", port: s.port, protocol: agentProtocol(s.meta.protocol) }] : [],
    labels: s.meta,
    workload: s.id,
    node,
    healthy,
  };
}
