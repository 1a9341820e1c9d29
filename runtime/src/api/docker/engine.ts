// What the Docker Engine API needs of the engine: the methods of docs/INTERFACES.md ("Runtime, part 2"),
// narrowed to this module's use, so the real Engine satisfies it and a fake serves the unit tests.
import type { Readable, Writable } from "node:stream";
import type { CommitOptions } from "../../engine/commit";
import type { DiskUsage } from "../../engine/disk-usage";
import type { NetworkInfo } from "../../engine/networks";
import type { ImageInfo } from "../../engine/parts";
import type { ProcessTable } from "../../engine/top";
import type {
  ContainerState,
  ContainerStats,
  EngineEvent,
  LogEntry,
  LogQuery,
  RunSpec,
} from "../../engine/types";
import type { validateUpdate } from "../../engine/validate-lifecycle";
import type { BuildProgress, BuildRequest } from "../../image/dockerfile/build";
import type { BuildCacheUsage } from "../../image/store";
import type { BridgeInfo } from "../../network/bridge";
import type { NamedNetwork, NetworkCreate } from "../../network/named-networks";
import type { VolumeInfo } from "../../volumes/index";
import type { ArchiveApi } from "../archive";

export type WaitCondition = "not-running" | "next-exit" | "removed";

export interface ExecOptions {
  cmd: string[];
  tty: boolean;
  env?: string[];
  user?: string;
  workdir?: string;
}

export interface ExecProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  exited: Promise<number>;
  /** With a terminal: sets its size; false when it is gone. */
  resize?(rows: number, cols: number): Promise<boolean>;
}

export interface DockerEngine {
  /**
   * True when attach() hands out the app's stdin (for `docker run -i`). Absent: `-i` is refused at
   * create, because an app whose stdin never reaches EOF (cat, sh) would wait for ever.
   */
  readonly attachStdin?: boolean;
  /** Status "created"; nothing runs yet, the name is reserved. */
  create(spec: RunSpec): Promise<ContainerState>;
  /** created|exited -> running; running: no-op. */
  start(ref: string): Promise<ContainerState>;
  stop(ref: string, timeoutS?: number): Promise<ContainerState>;
  /** CONTAINER_NOT_RUNNING when not running. */
  kill(ref: string, signal?: string): Promise<void>;
  restart(ref: string, timeoutS?: number): Promise<ContainerState>;
  /** running -> paused (processes frozen, out of the registry); CONTAINER_PAUSED when already. */
  pause(ref: string): Promise<ContainerState>;
  /** paused -> running; CONTAINER_NOT_PAUSED when not paused. */
  unpause(ref: string): Promise<ContainerState>;
  /** Another name, running or not (docker rename); NAME_IN_USE when taken. */
  rename(ref: string, name: string): Promise<ContainerState>;
  /** New limits and restart policy, for the cgroup at once when running (docker update). */
  update(ref: string, u: ReturnType<typeof validateUpdate>): Promise<ContainerState>;
  wait(ref: string, condition?: WaitCondition): Promise<{ exitCode: number; oomKilled: boolean }>;
  remove(ref: string, force: boolean): Promise<void>;
  list(all: boolean): Promise<ContainerState[]>;
  inspect(ref: string): Promise<ContainerState>;
  /** Ends when not following, or at removal / the caller's return() / `signal` (the client left). */
  logStream(ref: string, q: LogQuery, signal?: AbortSignal): AsyncIterable<LogEntry>;
  /** Live events; returns the unsubscribe function. */
  subscribe(listener: (e: EngineEvent) => void): () => void;
  /** The last events kept in memory. */
  events(since?: Date, until?: Date): EngineEvent[];
  execStream(ref: string, o: ExecOptions): ExecProcess;
  /** Live output from now on (with logs, also the earlier output); stdin only for a container created
   * with interactive. A created container can be attached before its start. */
  attach(
    ref: string,
    signal?: AbortSignal,
    o?: { logs?: boolean },
  ): { stdin?: Writable; output: AsyncIterable<LogEntry> };
  /** Resizes a -t container's terminal; CONTAINER_NOT_RUNNING when it does not run; no-op without -t. */
  resize(ref: string, rows: number, cols: number): void;
  stats(ref: string): Promise<ContainerStats>;
  /** A running container's processes as the host's ps prints them with `psArgs` (default -ef). */
  top(ref: string, psArgs: string[]): Promise<ProcessTable>;
  images(): ImageInfo[];
  importImage(tarPath: string, name: string): Promise<ImageInfo>;
  removeImage(name: string): Promise<void>;
  tagImage(source: string, target: string): Promise<ImageInfo>;
  /** Named volumes, with the containers that reference each (the unit tests' fake has none). */
  listVolumes?(): Array<VolumeInfo & { usedBy: string[] }>;
  createVolume?(name: string, labels?: Record<string, string>): VolumeInfo;
  removeVolume?(name: string): void;
  /** What is at a path in a container (HEAD /containers/ID/archive); the tests' fake may have none. */
  statPath?: ArchiveApi["statPath"];
  /** A tar of a path in a container. */
  archive?: ArchiveApi["archive"];
  /** Unpacks a tar into a directory of a container. */
  extract?: ArchiveApi["extract"];
  /** What a container changed in its file system. */
  changes?: ArchiveApi["changes"];
  /** A container's file system as a tar. */
  exportFs?: ArchiveApi["exportFs"];
  /** A new image from a container's changes (docker commit); the tests' fake may have none. */
  commit?(ref: string, name: string, o: CommitOptions): Promise<ImageInfo>;
  /** docker build (the classic builder); absent: POST /build is a 501. */
  build?(req: BuildRequest, progress: BuildProgress): Promise<ImageInfo>;
  /** The builder's cache (docker system df, docker builder prune); absent: none. */
  buildCacheUsage?(): BuildCacheUsage;
  pruneBuildCache?(): Promise<BuildCacheUsage>;
  /** What images, containers and volumes take on disk (docker system df); the tests' fake may have none. */
  diskUsage?(): Promise<DiskUsage>;
  /** A `docker save` archive of images (by stored name); the tests' fake may have none. */
  saveImages?(names: string[]): AsyncGenerator<Buffer>;
  /** A stored layer's size by diff id, 0 when unknown (the tests' fake may have none). */
  layerBytes?(diffId: string): number;
  /** The bridge network every container joins (the unit tests' fake has none). */
  network?(): BridgeInfo;
  /** Named networks (docker network create), each with its containers; the tests' fake may have none. */
  listNetworks?(): NetworkInfo[];
  createNetwork?(c: NetworkCreate): NamedNetwork;
  /** Refused (409) while a container is on it. */
  removeNetwork?(ref: string): void;
  /** Puts a container on a named network with its aliases there. */
  connect?(ref: string, network: string, aliases: string[]): Promise<ContainerState>;
  disconnect?(ref: string, network: string): Promise<ContainerState>;
}
