// Domain types of the engine: what a user asks for (RunSpec) and what the engine keeps per container
// (ContainerState, one JSON file each). The API body and the state file use these shapes directly.

import type { NetworkAliases } from "../network/named-networks";
import type { MountSpec } from "../volumes/index";

export type { MountSpec };

/**
 * How the sidecar treats a port: "auto" (the default for a bare port) detects HTTP/1.1, h2c and gRPC
 * from the first bytes, with a timeout; "tcp" and "server-first" (MySQL, SMTP: the server speaks
 * first) are opaque and never wait for detection; "http", "http2" and "grpc" are declared.
 */
export type PortProtocol = "auto" | "http" | "http2" | "grpc" | "tcp" | "server-first";

/** The named networks a container is on, each with the names it answers to there (Docker's
 * EndpointsConfig aliases). None: the default network. */
export type ContainerNetworks = NetworkAliases;

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
  /** --restart; default {name: "no", maxRetries: 0}. */
  restart: RestartPolicy;
  /** --health-cmd / --health-http and friends; default the image's HEALTHCHECK, if any. */
  healthcheck?: HealthCheckSpec;
  /** -p [IP:]HOSTPORT:PORT; default none. */
  publish: PublishSpec[];
  /** --tmpfs DEST[:size=64m,mode=1777]; default none. */
  tmpfs: TmpfsSpec[];
  /** -t: the app gets a pseudo-terminal (output is then one stream). Default false. */
  tty: boolean;
  /** -i: keep the app's stdin open for attach. Default false. */
  interactive: boolean;
  /** With -i and no -t: the first attached client's end of input closes the app's stdin (`run -i`
   * attached; Docker's StdinOnce). Default false: stdin stays open across attaches. */
  stdinOnce: boolean;
  /** With -t: the terminal's size when the app starts (rows, cols); default the monitor's (0x0). */
  consoleSize?: { rows: number; cols: number };
  /** --stop-timeout: seconds between the stop signal and SIGKILL; default 10. */
  stopTimeoutS: number;
  /** --stop-signal; default the image's STOPSIGNAL, else "SIGTERM". */
  stopSignal?: string;
  /** --no-healthcheck: the image's HEALTHCHECK is not run (default false). */
  noHealthcheck?: boolean;
  /** --network NAME (by name or id, made with `docker network create`); default the bridge's own. */
  networks?: ContainerNetworks;
}

export type RestartPolicyName = "no" | "on-failure" | "always" | "unless-stopped";

export interface RestartPolicy {
  name: RestartPolicyName;
  /** on-failure only: give up after this many restarts; 0 = no limit. */
  maxRetries: number;
}

/** A health check. Exactly one of exec and http. Docker's defaults. */
export interface HealthCheckSpec {
  /** Run in the container (as `exec`); exit 0 = healthy. ["/bin/sh", "-c", CMD] for --health-cmd. */
  exec?: string[];
  /** GET http://ADDRESS:PORT/PATH from the host (through the sidecar); 2xx or 3xx = healthy. */
  http?: { port: number; path: string };
  /** Default 30000. */
  intervalMs: number;
  /** A probe that takes longer fails (and its process is killed). Default 30000. */
  timeoutMs: number;
  /** Consecutive failures before "unhealthy". Default 3. */
  retries: number;
  /** Failures during this time after start do not count. Default 0. */
  startPeriodMs: number;
}

export interface PublishSpec {
  /** Default: the daemon's --publish-ip (127.0.0.1 unless configured). */
  hostIp: string;
  /** 0: any free port (reported in ContainerState.publish). */
  hostPort: number;
  containerPort: number;
  protocol: "tcp";
}

export interface TmpfsSpec {
  destination: string;
  /** Default: the kernel's (half of the host's memory), as Docker. */
  sizeBytes?: number;
  /** Octal permission bits, default 0o1777. */
  mode: number;
  /** The `exec` option: files on it may be executed. Default false (noexec, as Docker). */
  exec?: boolean;
}

export type HealthStatus = "starting" | "healthy" | "unhealthy";

export interface HealthProbeResult {
  start: string;
  end: string;
  exitCode: number;
  /** At most 4 KiB of the probe's output (or the HTTP status line / error). */
  output: string;
}

export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  /** The last 5 probes, oldest first. */
  log: HealthProbeResult[];
}

/** A published port as bound: hostPort is the real one even when 0 was asked for. */
export type PublishedPort = PublishSpec;

/** Docker's event shape, so `weft events` and the Engine API's /events share it. */
export interface EngineEvent {
  type: "container" | "image" | "volume" | "network";
  /** create, start, die, stop, kill, restart, destroy, oom, health_status: healthy|unhealthy,
   * exec_create, exec_start, exec_die, attach; image: import, delete; volume: create, destroy;
   * network: create, destroy, connect, disconnect. */
  action: string;
  /** Container id, image name or volume name. */
  id: string;
  /** name, image, exitCode, signal, ... as strings. */
  attributes: Record<string, string>;
  /** ISO time and Unix nanoseconds (Docker's timeNano). */
  time: string;
  timeNano: number;
}

/** One line the app wrote, as the per-container monitor logged it. */
export interface LogEntry {
  stream: "stdout" | "stderr";
  /** ISO time with nanoseconds, as the monitor stamped it. */
  time: string;
  /** The bytes of the line, with its newline (a partial line has none). */
  data: Buffer;
}

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  /** Keep streaming new lines until the container is removed or the caller stops reading. */
  follow: boolean;
  since?: Date;
  until?: Date;
  /** Only the last N lines (before following). */
  tail?: number;
}

/** "restarting": exited, and the restart policy will start it again after a backoff. */
export type ContainerStatus = "created" | "running" | "restarting" | "exited";

export interface ContainerState {
  id: string;
  name: string;
  image: string;
  imageId: string;
  created: string;
  status: ContainerStatus;
  /** Running, with its processes frozen by `weft pause` (Docker's State.Paused; its Status "paused"). */
  paused?: boolean;
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
  restartPolicy?: RestartPolicy;
  /** Restarts made by the restart policy since the last user start. */
  restartCount?: number;
  /** A user stopped it (so unless-stopped and always do not restart it, until the daemon restarts for always). */
  stoppedByUser?: boolean;
  healthcheck?: HealthCheckSpec;
  /** Present when the container has a health check. */
  health?: HealthState;
  publish?: PublishedPort[];
  tmpfs?: TmpfsSpec[];
  tty?: boolean;
  interactive?: boolean;
  stdinOnce?: boolean;
  stopTimeoutS?: number;
  stopSignal?: string;
  /** Why the last start failed, if it did (Docker's State.Error). */
  error?: string;
  /** Named networks it is on (engine/networks.ts); absent: the default network only. */
  networks?: ContainerNetworks;
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
