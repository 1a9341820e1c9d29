// Domain types of the registry. Nothing here knows about protobuf or HTTP: the wire modules of
// registration, discovery and api convert to and from these.

/** docs/INTERFACES.md "Sidecar port protocols": "auto" (empty) lets the sidecar detect. */
import type { MtlsMode } from "../../../proto/mtls-mode";

export type Protocol = "auto" | "http" | "http2" | "grpc" | "tcp" | "server-first";
export const PROTOCOLS: readonly Protocol[] = ["auto", "http", "http2", "grpc", "tcp", "server-first"];

export interface ServicePort {
  /** Optional name ("http", "metrics"); "" when the source gave none. */
  name: string;
  port: number;
  protocol: Protocol;
}

/** "config" (defined through the config API) wins over "implied" (named by an endpoint). */
export type ServiceOrigin = "config" | "implied";

export interface Service {
  name: string;
  /** Stable for the life of the registry: kept across restarts and while endpoints come and go. */
  virtualIp: string;
  ports: ServicePort[];
  labels: Record<string, string>;
  origin: ServiceOrigin;
  /** A config Service's spec.mtls; absent: the control plane's mesh-wide default applies. */
  mtls?: MtlsMode;
  /** Registry index at which the service was created and last changed (Consul's Create/ModifyIndex). */
  createIndex: number;
  modifyIndex: number;
}

export interface Endpoint {
  /** Unique within its source, e.g. the container id. */
  id: string;
  service: string;
  address: string;
  ports: ServicePort[];
  labels: Record<string, string>;
  workload: string;
  node: string;
  healthy: boolean;
  /** Who registered it ("daemon:NODE", "agent"); each source replaces only its own endpoints. */
  source: string;
  createIndex: number;
  modifyIndex: number;
}

/** What a source sends: an endpoint without the indexes the registry assigns. */
export type EndpointInput = Omit<Endpoint, "createIndex" | "modifyIndex" | "source">;

/** Ports and labels a source declares for a service it implies. */
export interface ServiceDeclaration {
  name: string;
  ports: ServicePort[];
  labels: Record<string, string>;
}

export interface SyncOptions {
  /** Ids of endpoints of this sync to treat as changed although their registry fields are equal. */
  touched?: ReadonlySet<string>;
}

export interface SyncResult {
  /** The registry's change index after the sync (unchanged when the sync changed nothing). */
  index: number;
  /** The services the synced endpoints and declarations name, with their virtual IPs. */
  services: Service[];
}

/** Emitted after every committed change; `services` names what changed (services or their endpoints). */
export interface RegistryChange {
  index: number;
  services: string[];
}

/**
 * Where services and endpoints live. The rest of the control plane depends on this interface only,
 * so other registries (Kubernetes, memory) can stand behind it.
 */
export interface ServiceRegistry {
  /**
   * Why `address` cannot be an endpoint's here (one no sidecar routes to, endpoint-address.ts, or
   * one in the range virtual IPs come from, so that traffic to it would loop through the
   * sidecars), or undefined.
   */
  endpointAddressProblem(address: string): string | undefined;
  /** Replaces every endpoint of `source` with `endpoints`; other sources are untouched. Missing
   * services are created as "implied". An endpoint with an address endpointAddressProblem refuses
   * throws INVALID_ARGUMENT and changes nothing. `options.touched` names endpoints (by id) that the
   * source changed in what it keeps beside the registry (Consul tags, check statuses): they count as
   * changed (new modifyIndex, index bumped, listeners told) even when their fields here are the same. */
  syncEndpoints(
    source: string,
    endpoints: EndpointInput[],
    declarations: ServiceDeclaration[],
    options?: SyncOptions,
  ): SyncResult;
  /** Every service, sorted by name. */
  listServices(): Service[];
  /** The service, or undefined when the registry does not hold it. */
  getService(name: string): Service | undefined;
  /** Endpoints of one service from every source, sorted by source then id. */
  listEndpoints(service: string): Endpoint[];
  /** The names of services spelled as `name` is but for letter case ("PaymentService" for
   * "paymentservice", and that name itself when held), sorted. */
  serviceNamesIgnoringCase(name: string): string[];
  /** Every endpoint, sorted by service, source, id. */
  listAllEndpoints(): Endpoint[];
  /** Number of endpoints per service name (services without endpoints are absent). */
  endpointCounts(): Map<string, number>;
  /**
   * Marks every endpoint of `source` unhealthy (a source whose lease expired); its next sync says again
   * what is healthy. Returns how many endpoints changed.
   */
  markSourceUnhealthy(source: string): number;
  /**
   * Removes each named service that is "implied" and has no endpoint from any source (nothing runs it,
   * nothing configured it); others are left alone. Its virtual IP is kept for the name: should the
   * name come back it gets the same one, and no other service gets it while another is free.
   * Returns the names removed.
   */
  removeIdleImplied(names: string[]): string[];
  /** Every source that holds at least one endpoint. */
  listSources(): string[];
  /** The current change index; grows by one per committed change, never goes back. */
  index(): number;
  /** Calls `listener` after each committed change; returns a function that unsubscribes. */
  onChange(listener: (change: RegistryChange) => void): () => void;
  close(): void;
}
