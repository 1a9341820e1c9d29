// Round robin over a service's healthy endpoints. The cursor is per service and survives endpoint
// changes (it is taken modulo the current list), so a push does not send everyone to the first one.
import type { EndpointConfig, PortConfig } from "../config/types";

export interface PickedEndpoint {
  endpoint: EndpointConfig;
  /** The endpoint's port that serves the requested service port. */
  port: number;
}

export class RoundRobin {
  private cursors = new Map<string, number>();

  /** Next endpoint of `service` from `endpoints` (already filtered to healthy); undefined if none. */
  pick(service: string, endpoints: EndpointConfig[], servicePort: PortConfig): PickedEndpoint | undefined {
    if (endpoints.length === 0) return undefined;
    const cursor = this.cursors.get(service) ?? 0;
    this.cursors.set(service, (cursor + 1) % 1_000_000_000);
    const endpoint = endpoints[cursor % endpoints.length]!;
    return { endpoint, port: endpointPort(endpoint, servicePort) };
  }
}

/**
 * Which endpoint port serves a service port: the one with the same name, else the same number
 * (an endpoint that lists no ports serves the service port as is).
 */
export function endpointPort(endpoint: EndpointConfig, servicePort: PortConfig): number {
  if (servicePort.name) {
    const named = endpoint.ports.find((p) => p.name === servicePort.name);
    if (named) return named.port;
  }
  return servicePort.port;
}
