// A weft.yaml after validation: every field checked, defaults applied, durations in ms, sizes in
// bytes. Planning and the daemon calls work on this, never on raw YAML.
import type { HealthCheckSpec, PortProtocol, RestartPolicy } from "../engine/types";

export type DependsCondition = "service_started" | "service_healthy";

export interface ServiceConfig {
  /** The key under `services`. */
  name: string;
  image: string;
  command?: string[];
  entrypoint?: string[];
  /** KEY=VALUE, in file order. */
  environment: string[];
  /** Default 1. */
  replicas: number;
  /** Mesh ports, "8080/http" as given (validated). */
  ports: Array<{ port: number; protocol: PortProtocol }>;
  /** "[IP:]HOSTPORT:PORT" as given (validated): the daemon applies its --publish-ip. */
  publish: string[];
  labels: Record<string, string>;
  memoryBytes?: number;
  cpus?: number;
  pids?: number;
  /** "SRC:DEST[:ro]" with a relative SRC made absolute and a named volume prefixed by the project. */
  volumes: string[];
  healthcheck?: HealthCheckSpec;
  restart: RestartPolicy;
  /** Default true. */
  sidecar: boolean;
  /** The mesh service to register as; default the key. */
  service: string;
  dependsOn: Array<{ service: string; condition: DependsCondition }>;
  user?: string;
  workdir?: string;
  readOnly: boolean;
  capAdd: string[];
  capDrop: string[];
  /** "DEST[:size=64m,mode=1777]". */
  tmpfs: string[];
}

export interface Manifest {
  /** The file it came from, as given (for messages). */
  file: string;
  /** -p, else `name:` in the file, else the file's directory name; containers are PROJECT-SERVICE-N. */
  project: string;
  /** In depends_on order: every service after the services it depends on. */
  services: ServiceConfig[];
  /** Named volumes declared at the top level (their names in the file, not prefixed). */
  volumes: string[];
}
