// Prometheus HTTP service discovery (http_sd_configs): GET /api/v1/sd/prometheus lists one target
// per sidecar, its metrics port (15090) on the workload's address, with labels naming the service,
// instance, version, workload and node. Endpoints from the agent API have no sidecar; they are listed
// only when they say where their metrics are (Meta "metrics_port").
import type { Endpoint, ServiceRegistry } from "../registry/types";
import type { Route } from "./http-server";

/** The sidecar's Prometheus port (ARCHITECTURE.md's port table). */
export const SIDECAR_METRICS_PORT = 15090;

export interface PrometheusTargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** Sources whose endpoints run with a Weft sidecar: the node daemons. */
function hasSidecar(e: Endpoint): boolean {
  return e.source.startsWith("daemon:");
}

function metricsPort(e: Endpoint): number | undefined {
  if (hasSidecar(e)) return SIDECAR_METRICS_PORT;
  const declared = e.labels.metrics_port;
  if (declared === undefined || !/^\d{1,5}$/.test(declared)) return undefined;
  const port = Number(declared);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** One group per target, so each carries its own labels. Empty label values are left out. */
export function prometheusTargets(registry: ServiceRegistry): PrometheusTargetGroup[] {
  const groups: PrometheusTargetGroup[] = [];
  for (const e of registry.listAllEndpoints()) {
    const port = metricsPort(e);
    if (port === undefined) continue;
    const labels: Record<string, string> = {
      __meta_weft_service: e.service,
      __meta_weft_source: e.source,
      __meta_weft_healthy: String(e.healthy),
      service: e.service,
      instance: e.workload || e.id,
      version: e.labels.version ?? "",
      workload: e.workload,
      node: e.node,
    };
    groups.push({
      targets: [hostPort(e.address, port)],
      labels: Object.fromEntries(Object.entries(labels).filter(([, v]) => v !== "")),
    });
  }
  return groups;
}

export function prometheusRoutes(registry: ServiceRegistry): Route[] {
  return [
    { pattern: ["api", "v1", "sd", "prometheus"], consul: false, answer: () => prometheusTargets(registry) },
  ];
}
