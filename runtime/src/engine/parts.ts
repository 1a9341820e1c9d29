// The engine's seams: each part is a constructor argument, so tests pass fakes and the daemon passes
// the real network, cgroups, image and oci modules (wired in engine/wiring.ts). The shapes mirror
// docs/INTERFACES.md, with the bridge and cgroup layout already bound.
import type { ChildProcess } from "node:child_process";
import type { Writable } from "node:stream";
import type { CommitInput } from "../image/commit";
import type { ImageRecord } from "../image/index";
import type { BuildCacheUsage } from "../image/store";
import type { BridgeInfo } from "../network/bridge";
import type { SpecOptions } from "../oci/index";
import type { ContainerState, HealthCheckSpec, HealthState, PublishedPort, PublishSpec } from "./types";

/** An image as the image store describes it (layers top first, config, ...). */
export type ImageInfo = ImageRecord;

export interface ImagesPart {
  /** Throws an error with code IMAGE_NOT_FOUND and a hint when missing. */
  get(name: string): ImageInfo;
  list(): ImageInfo[];
  import(tarPath: string, name: string): Promise<ImageInfo>;
  /** Forgets the name; deletes content and layers nothing else uses. IMAGE_NOT_FOUND when unknown. */
  remove(name: string): Promise<void>;
  /** Names the image `source` also `target` (re-pointing `target`). IMAGE_NOT_FOUND when unknown. */
  tag(source: string, target: string): Promise<ImageInfo>;
  /** A new image named `name` from a base image and layers written by `o.writeLayers` (image/commit.ts). */
  commit(name: string, o: CommitInput): Promise<ImageInfo>;
  /** A new empty directory for temp files next to the images (the caller removes it). */
  scratchDir(): string;
  /** A stored layer's size by diff id ("sha256:..."), the sum of its regular files; 0 when unknown. */
  layerBytes(diffId: string): number;
  /** The builder's cache (image/store.ts); a store without one builds every step. */
  cachedStep?(key: string, name: string): Promise<ImageInfo | undefined>;
  rememberStep?(key: string, id: string): Promise<void>;
  buildCacheUsage?(): BuildCacheUsage;
  pruneBuildCache?(): Promise<BuildCacheUsage>;
}

export interface NetworkPart {
  /** The bridge's gateway, used as the containers' nameserver and default route. */
  gateway(): string;
  /** The bridge the workloads join: its name, subnet, gateway and prefix length. */
  info(): BridgeInfo;
  allocate(owner: string): string;
  release(owner: string): void;
  /** The kernel names a workload's network gets (nothing is made): known before create, so the state
   * saved before anything exists already says what a crash would leave to remove. */
  names(id: string): { netns: string; netnsPath: string; hostVeth: string };
  /**
   * Makes the netns and the veth on the bridge, with the address and routes in place; a failure
   * removes what was made.
   */
  create(id: string, address: string): Promise<{ netns: string; netnsPath: string; hostVeth: string }>;
  /** Idempotent. */
  destroy(netns: string, hostVeth: string): Promise<void>;
  /** Byte counters of the host end of a workload's veth (so rx is what the container sent). */
  counters(hostVeth: string): Promise<{ rxBytes: number; txBytes: number }>;
}

export interface CgroupsPart {
  /** OCI linux.resources for the limits. */
  resources(limits: { memoryBytes?: number; cpus?: number; pids?: number; cpuShares?: number }): object;
  /** Idempotent. */
  remove(path: string): Promise<void>;
  /** Live usage of the cgroup (memory without inactive page cache, cpu in ns, pids). */
  usage(path: string): Promise<{ memoryBytes: number; pids: number; cpuUsageNs: number }>;
  /** OOM kills so far; 0 once the cgroup is gone. */
  oomKills(path: string): Promise<number>;
}

export interface RootfsPart {
  mountOverlay(o: { lower: string | string[]; upper: string; work: string; target: string }): Promise<void>;
  /** Idempotent. */
  unmount(target: string): Promise<void>;
  /** Whether something is mounted at `target` (a container's root before cp reads or writes it). */
  isMounted(target: string): boolean;
  buildSpec(o: SpecOptions): object;
  /** OCI linux.seccomp for these capabilities; `profile` is "default" or a profile file's path. */
  seccomp(capabilities: string[], profile: string): SpecOptions["seccomp"];
}

/** What the per-container monitor (conmon) needs to create a container. */
export interface MonitorCreate {
  id: string;
  name: string;
  bundle: string;
  /** k8s-file log of stdout and stderr. */
  logPath: string;
  /** The monitor writes the exit code to EXIT_DIR/ID. */
  exitDir: string;
  /** The app's stdio is a terminal the monitor holds (config.json has process.terminal). */
  tty?: boolean;
  /** The app's stdin is fed by the monitor's attach socket. */
  interactive?: boolean;
  /** With interactive and no tty, the first attached client's EOF closes the app's stdin. */
  stdinOnce?: boolean;
}

export interface RuncPart {
  /** `runc create` under a new monitor that outlives the daemon; resolves with the app's pid (not started). */
  create(o: MonitorCreate): Promise<number>;
  /** `runc start`: the created app runs. `pid` (the app's, from create) lets it skip the runc process. */
  start(id: string, pid?: number): Promise<void>;
  state(id: string): Promise<{ status: string; pid: number } | undefined>;
  /** Every container under the runc root (one call, for adoption). */
  list(): Promise<Array<{ id: string; status: string; pid: number }>>;
  kill(id: string, signal: string): Promise<void>;
  /** `runc pause`: the app's processes are frozen (its sidecar, in a cgroup of its own, is not). */
  pause(id: string): Promise<void>;
  /** `runc resume`. */
  resume(id: string): Promise<void>;
  /** `runc update`: new limits (OCI linux.resources, as CgroupsPart.resources makes them) for its cgroup. */
  update(id: string, resources: object): Promise<void>;
  /** Idempotent. */
  delete(id: string, force?: boolean): Promise<void>;
  /** A stream into the app's stdin through its monitor (nothing connects before the first write or
   * end); `ready` resolves false when the app will not run. Absent: input cannot be attached. */
  attachStdin?(bundle: string, ready: () => Promise<boolean>, onError: (message: string) => void): Writable;
  /** Resizes the app's terminal through its monitor; false when no monitor listens. */
  resize?(bundle: string, rows: number, cols: number): boolean;
  /**
   * `runc exec` of args; user is numeric (the engine resolves names from the container's /etc/passwd).
   * `log`: a file for runc's own messages as JSON lines (why it could not start the command).
   */
  exec(
    id: string,
    args: string[],
    o?: { tty?: boolean; env?: string[]; user?: { uid: number; gid: number }; cwd?: string; log?: string },
  ): ChildProcess;
}

export interface SidecarStart {
  id: string;
  name: string;
  dir: string;
  netns: string;
  netnsPath: string;
  address: string;
  service?: string;
  ports: ContainerState["ports"];
  labels: Record<string, string>;
}

export interface InjectorPart {
  /** Starts the sidecar in the netns, waits until ready, applies the interception rules. */
  start(o: SidecarStart): Promise<{ pid: number; cgroupPath: string }>;
  /** SIGTERM, wait, SIGKILL; idempotent (a pid that is gone is fine). */
  stop(pid: number | undefined, graceMs: number): Promise<void>;
  /** Removes the sidecar's cgroup (idempotent). */
  cleanup(cgroupPath: string): Promise<void>;
  /** Whether the sidecar with this pid still runs (a crashed one is restarted). */
  alive(pid: number): boolean;
}

export interface RegistrarPart {
  /** The full set of containers changed; never throws. */
  update(containers: ContainerState[]): void;
}

/** Health checks (runtime/src/health's HealthMonitor): results come back through Engine.healthChanged. */
export interface HealthPart {
  watch(t: {
    id: string;
    name: string;
    address: string;
    startedAt: string;
    healthcheck: HealthCheckSpec;
    health?: HealthState;
  }): void;
  unwatch(id: string): void;
}

/** Published ports (runtime/src/ports' PortPublisher). */
export interface PortsPart {
  publish(id: string, address: string, specs: PublishSpec[]): Promise<PublishedPort[]>;
  unpublish(id: string): Promise<void>;
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** One line per event on stderr: stdout carries only the daemon's ready line. */
export const stderrLogger: Logger = {
  info: (m) => process.stderr.write(`${new Date().toISOString()} info ${m}\n`),
  warn: (m) => process.stderr.write(`${new Date().toISOString()} warn ${m}\n`),
  error: (m) => process.stderr.write(`${new Date().toISOString()} error ${m}\n`),
};

export interface EngineParts {
  stateDir: string;
  /** Cgroup parent, e.g. "weft": the app's cgroup is /PARENT/<id>. */
  cgroupParent: string;
  images: ImagesPart;
  network: NetworkPart;
  cgroups: CgroupsPart;
  rootfs: RootfsPart;
  runc: RuncPart;
  injector: InjectorPart;
  registrar: RegistrarPart;
  /** Default: none (containers with a health check then stay "starting" and unregistered). */
  health?: HealthPart;
  /** Default: none (-p is refused). */
  ports?: PortsPart;
  clock?: Clock;
  logger?: Logger;
}
