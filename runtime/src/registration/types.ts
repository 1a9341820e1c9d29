// What the daemon tells the control plane, as domain types (registration/wire.ts maps them to gRPC).
import type { PortSpec } from "../engine/types";

export interface EndpointRecord {
  /** The container id: unique within the source. */
  id: string;
  service: string;
  address: string;
  ports: PortSpec[];
  labels: Record<string, string>;
  workload: string;
  node: string;
  healthy: boolean;
  source: string;
}

/** A service implied by `weft run --service S --port P`: the ports it declares. */
export interface ServiceDeclaration {
  name: string;
  ports: PortSpec[];
}

export interface SyncRequest {
  source: string;
  endpoints: EndpointRecord[];
  services: ServiceDeclaration[];
}

/** Sends one full-state sync; rejects when the control plane cannot be reached or refuses it. */
export type SyncFn = (request: SyncRequest) => Promise<void>;
