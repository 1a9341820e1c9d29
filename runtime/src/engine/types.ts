// Domain types of the engine: what a user asks for (RunSpec) and what the engine keeps per container
// (ContainerState, one JSON file each). The API body and the state file use these shapes directly.

import type { MountSpec } from "../volumes/index";

export type { MountSpec };

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
  /** Relative CPU weight (--cpu-shares); default the kernel's 1024. */
  cpuShares?: number;
  /** Default true: start a sidecar and intercept the workload's traffic. */
  sidecar: boolean;
  /** "uid[:gid]" or "name[:group]" from the image's /etc/passwd; default: the image's user, else 0. */
  user?: string;
  /** Replaces the image's entrypoint and clears its cmd (Docker's --entrypoint); [] clears it. */
  entrypoint?: string[];
  /** Absolute; default the image's WorkingDir, else "/". */
  workdir?: string;
  /** Default: the container's name. */
  hostname?: string;
  /** Mount the root filesystem read-only (default false). */
  readOnly: boolean;
  /** Every capability, no seccomp, no masked paths, every device (default false). */
  privileged: boolean;
  /** Capability names (NET_ADMIN, CAP_NET_ADMIN or ALL) added to / dropped from Docker's set. */
  capAdd: string[];
  capDrop: string[];
  /** "default" (Podman's profile), "unconfined", or the absolute path of a profile file. */
  seccomp: string;
  /** Remove the container when its app exits (--rm; default false). */
  autoRemove: boolean;
  /** -v bind mounts and named volumes. */
  volumes: MountSpec[];
  /** "host" (default: no user namespace) or "auto" (root in the container is an unprivileged host uid). */
  userns: "host" | "auto";
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
  cpuShares?: number;
  sidecar: boolean;
  uid: number;
  gid: number;
  /** The cgroup paths (absolute from the hierarchy root) of the app and its sidecar. */
  cgroupPath: string;
  sidecarCgroupPath?: string;
  hostname?: string;
  workdir?: string;
  readOnly?: boolean;
  privileged?: boolean;
  /** The effective capability set. */
  capabilities?: string[];
  seccomp?: string;
  autoRemove?: boolean;
  /** Mounts with their host paths resolved (a named volume's source is its name; see volumes). */
  mounts?: MountSpec[];
  userns?: "host" | "auto";
  /** Known only when the engine saw why the app ended (an OOM kill: 137). */
  exitCode?: number;
  /** The kernel killed the app for exceeding its memory limit. */
  oomKilled?: boolean;
}

/** One `weft stats` sample. cpuPercent is over the sampling interval, 100 = one CPU busy. */
export interface ContainerStats {
  id: string;
  name: string;
  cpuPercent: number;
  cpuUsageNs: number;
  memoryBytes: number;
  /** The --memory limit, else the host's memory. */
  memoryLimitBytes: number;
  memoryPercent: number;
  /** As seen from the container: received and sent bytes on its eth0. */
  netRxBytes: number;
  netTxBytes: number;
  pids: number;
  read: string;
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
