// Which mesh service, and on which ports, a container made through the Docker API joins. Docker has
// no mesh: a container is in the service its weft.service label names, else docker-compose's service
// (so compose's services find each other by name through the sidecars' DNS), and it offers the
// ports its image exposes, as Docker counts them.
import type { ContainerState, PortSpec, RunSpec } from "../../engine/types";
import { SIDECAR_PORTS } from "../../engine/types";
import { SERVICE_RE } from "../../engine/validate";
import type { DockerEngine } from "./engine";

const COMPOSE_SERVICE_LABEL = "com.docker.compose.service";

/**
 * The mesh service a container joins: its weft.service label, else docker-compose's service name
 * (so that compose's services find each other by name, through the sidecar's DNS), when that is a
 * DNS label; a compose name that is not (upper case, '_') joins none and says so in `warning`.
 */
export function serviceOf(labels: Record<string, string>): { service?: string; warning?: string } {
  if (labels["weft.service"] !== undefined) return { service: labels["weft.service"] };
  const compose = labels[COMPOSE_SERVICE_LABEL];
  if (compose === undefined) return {};
  if (SERVICE_RE.test(compose)) return { service: compose };
  return {
    warning: `compose service "${compose}" is not a DNS label (lower-case letters, digits and '-'), so the container joins no mesh service and others cannot reach it by that name; rename the service or set the label weft.service`,
  };
}

/**
 * The ports a container made through the Docker API offers: those asked for, and the TCP ports its
 * image EXPOSEs (detected as "auto"), as Docker counts both. A service's replicas are reached on
 * these through its virtual IP, so an image's port works by name without being repeated
 * (docker-compose's `redis:6379`). weft run and weft up offer only the ports they declare: a load
 * generator's image may expose one it does not serve. Ports the sidecar holds are left out: the app
 * cannot be reached on them through the mesh anyway.
 */
export function withExposedPorts(spec: Pick<RunSpec, "ports" | "sidecar">, exposed: string[]): PortSpec[] {
  const ports = [...spec.ports];
  for (const e of exposed) {
    const [p, proto = "tcp"] = e.split("/");
    const port = Number(p);
    if (proto !== "tcp" || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    if (ports.some((x) => x.port === port) || (spec.sidecar && SIDECAR_PORTS.includes(port))) continue;
    ports.push({ port, protocol: "auto" });
  }
  return ports;
}

/** Which project made a container: docker-compose's label, or weft up's. */
function projectOf(s: ContainerState): string {
  return s.labels["com.docker.compose.project"] ?? s.labels["weft.project"] ?? "";
}

/**
 * Mesh service names are one namespace for the whole mesh (as Consul's), where Docker scopes a
 * compose service to its project's network: a second project's "web" becomes a replica of the
 * first's and takes a share of its traffic. Said at create, naming the other project.
 */
export async function sharedServiceWarning(engine: DockerEngine, state: ContainerState): Promise<string> {
  if (!state.service || state.labels["weft.service"] !== undefined) return "";
  const other = (await engine.list(true)).find(
    (c) => c.id !== state.id && c.service === state.service && projectOf(c) !== projectOf(state),
  );
  if (!other) return "";
  return `mesh service "${state.service}" already has container ${other.name}${projectOf(other) ? ` of project ${projectOf(other)}` : ""}: they are now replicas of one service and share its traffic; set the label weft.service to keep them apart`;
}
