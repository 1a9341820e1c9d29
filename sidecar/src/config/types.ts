// Domain types of the config the sidecar routes by. The wire module turns discovery responses into
// these (through validate.ts); nothing else in the sidecar sees generated protobuf types.

export type Protocol = "http" | "tcp";

export interface PortConfig {
  /** Optional name; an endpoint port with the same name serves a service port. */
  name: string;
  port: number;
  protocol: Protocol;
}

export interface ServiceConfig {
  name: string;
  /** IPv4 address the app connects to; "" when the control plane has not assigned one. */
  virtualIp: string;
  ports: PortConfig[];
  labels: Record<string, string>;
}

export interface EndpointConfig {
  id: string;
  service: string;
  address: string;
  ports: PortConfig[];
  labels: Record<string, string>;
  workload: string;
  node: string;
  healthy: boolean;
}

/** A batch of validated resources of one type, as one discovery response carried them. */
export interface ConfigUpdate<T> {
  /** Resources by name (a service name). */
  resources: Map<string, T>;
  /** Names removed (incremental responses only). */
  removed: string[];
  /** true: resources hold only what changed; false: resources are the whole state of the type. */
  incremental: boolean;
}
