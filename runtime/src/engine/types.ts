// Domain types of the engine: what a user asks for (RunSpec) and what the engine keeps per container
// (ContainerState, one JSON file each). The API body and the state file use these shapes directly.

export type PortProtocol = "http" | "tcp";

export interface PortSpec {
  port: number;
  protocol: PortProtocol;
}

/** `weft run` as data. Defaults are applied by validateRunSpec. */
export interface RunSpec {
  image: string;
  /** Default: a generated "adjective_noun" name. */
  name?: string;
  /** Default: the image's entrypoint + cmd. */
  cmd?: string[];
  /** KEY=VALUE, added after the image's env. */
  env: string[];
  service?: string;
  ports: PortSpec[];
  labels: Record<string, string>;
  memoryBytes?: number;
  cpus?: number;
  pids?: number;
  /** Default true: start a sidecar and intercept the workload's traffic. */
  sidecar: boolean;
  /** "uid[:gid]"; default: the image's user, else 0. */
  user?: string;
}

export type ContainerStatus = "created" | "running" | "exited";

export interface ContainerState {
  id: string;
  name: string;
  image: string;
  imageId: string;
  created: string;
  status: ContainerStatus;
  startedAt?: string;
  finishedAt?: string;
  /** The app's pid (runc init's child) while running. */
  pid?: number;
  sidecarPid?: number;
  address: string;
  gateway: string;
  netns: string;
  hostVeth: string;
  cmd: string[];
  env: string[];
  service?: string;
  ports: PortSpec[];
  labels: Record<string, string>;
  memoryBytes?: number;
  cpus?: number;
  pids?: number;
  sidecar: boolean;
  uid: number;
  gid: number;
  /** The cgroup paths (absolute from the hierarchy root) of the app and its sidecar. */
  cgroupPath: string;
  sidecarCgroupPath?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface LogsResult {
  stdout: string;
  stderr: string;
}

/** The sidecar ports a workload's own ports may not use (ARCHITECTURE.md's table). */
export const SIDECAR_PORTS = [15000, 15001, 15006, 15021, 15053, 15090];

/** The proxy's identity; an app asking for it would escape interception. */
export const SIDECAR_UID = 1337;
