// The runtime engine: container lifecycle over the parts it is given (engine/parts.ts). State lives in
// one JSON file per container, so a restarted daemon finds its containers again (load()).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RuntimeError } from "../errors";
import { ImageError } from "../image/index";
import { type VolumeInfo, VolumeStore } from "../volumes/index";
import { generateName, newContainerId } from "./names";
import {
  type Clock,
  type EngineParts,
  type ImageInfo,
  type Logger,
  stderrLogger,
  systemClock,
} from "./parts";
import { runContainer } from "./run-container";
import { StateStore } from "./state-store";
import { sampleStats } from "./stats";
import { stopApp } from "./stop-app";
import type { ContainerState, ContainerStats, ExecResult, LogsResult, RunSpec } from "./types";

const SIDECAR_GRACE_MS = 6000;

export class Engine {
  private readonly containers = new Map<string, ContainerState>();
  /** Names of containers being created: taken, though not yet in `containers`. */
  private readonly creating = new Set<string>();
  /** Containers being stopped: no longer registered even before runc says they stopped. */
  private readonly stopping = new Set<string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** --rm containers whose removal is under way. */
  private readonly removing = new Set<string>();
  private readonly store: StateStore;
  readonly volumes: VolumeStore;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly parts: EngineParts) {
    this.store = new StateStore(join(parts.stateDir, "containers"));
    this.volumes = new VolumeStore(join(parts.stateDir, "volumes"));
    this.clock = parts.clock ?? systemClock;
    this.logger = parts.logger ?? stderrLogger;
  }

  /** Reads every state file; a container runc no longer runs is marked exited. Registers the rest. */
  async load(): Promise<void> {
    const states = this.store.loadAll((id, err) =>
      this.logger.warn(`state of container ${id} unreadable, skipped: ${(err as Error).message}`),
    );
    for (const state of states) {
      this.containers.set(state.id, state);
      await this.refresh(state);
      // --rm containers that exited while no daemon was watching.
      if (state.status === "exited" && state.autoRemove) this.autoRemove(state);
    }
    this.logger.info(`adopted ${states.length} container(s) from ${this.store.dir}`);
    this.publish();
  }

  async run(spec: RunSpec): Promise<ContainerState> {
    const name = spec.name ?? generateName((n) => this.nameTaken(n));
    if (this.nameTaken(name)) {
      throw new RuntimeError(
        "NAME_IN_USE",
        `container name "${name}" is already in use; remove it with 'weft rm ${name}' or choose another --name`,
      );
    }
    this.creating.add(name);
    try {
      const id = newContainerId();
      const state = await runContainer(
        {
          parts: this.parts,
          store: this.store,
          clock: this.clock,
          logger: this.logger,
          volumes: this.volumes,
        },
        spec,
        id,
        name,
      );
      this.containers.set(id, state);
      this.logger.info(`started ${name} (${id.slice(0, 12)}) at ${state.address}`);
      this.publish();
      return state;
    } finally {
      this.creating.delete(name);
    }
  }

  /** Running containers, or every container with `all`; statuses checked against runc. */
  async list(all = true): Promise<ContainerState[]> {
    const out: ContainerState[] = [];
    for (const state of this.containers.values()) {
      await this.refresh(state);
      if (all || state.status === "running") out.push(state);
    }
    return out.sort((a, b) => b.created.localeCompare(a.created));
  }

  async inspect(ref: string): Promise<ContainerState> {
    const state = this.find(ref);
    await this.refresh(state);
    return state;
  }

  logs(ref: string): LogsResult {
    const dir = this.store.containerDir(this.find(ref).id);
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : "");
    return { stdout: read("stdout.log"), stderr: read("stderr.log") };
  }

  async exec(ref: string, args: string[]): Promise<ExecResult> {
    const state = await this.inspect(ref);
    if (state.status !== "running") {
      throw new RuntimeError(
        "CONTAINER_NOT_RUNNING",
        `container "${state.name}" is not running; start a new one with 'weft run'`,
      );
    }
    if (args.length === 0) throw new RuntimeError("INVALID_ARGUMENT", "cmd must name a command to run");
    if (state.userns === "auto") {
      // runc 1.1 enters the user namespace before the network namespace, which the host owns: EPERM.
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `container "${state.name}" runs with --userns=auto, and runc on this host cannot exec into it; run the command as the container's own command instead`,
      );
    }
    const child = this.parts.runc.exec(state.id, args);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => stdout.push(b));
    child.stderr?.on("data", (b: Buffer) => stderr.push(b));
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    return { exitCode, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
  }

  /** Deregisters, SIGTERMs the app, SIGKILLs it after `timeoutS`, then stops the sidecar. */
  async stop(ref: string, timeoutS = 10): Promise<ContainerState> {
    const state = this.find(ref);
    return this.locked(state.id, async () => {
      this.stopping.add(state.id);
      try {
        this.publish();
        await stopApp({ runc: this.parts.runc, clock: this.clock, logger: this.logger }, state, timeoutS);
        await this.parts.injector.stop(state.sidecarPid, SIDECAR_GRACE_MS);
        if (state.status !== "exited") {
          state.finishedAt = this.clock.now().toISOString();
          await this.recordOom(state);
        }
        state.status = "exited";
        state.pid = undefined;
        state.sidecarPid = undefined;
        this.store.save(state);
        this.logger.info(`stopped ${state.name}`);
        if (state.autoRemove) this.autoRemove(state);
        return state;
      } finally {
        this.stopping.delete(state.id);
        this.publish();
      }
    });
  }

  /** Deletes a stopped container and everything made for it; `force` stops a running one first. */
  async remove(ref: string, force = false): Promise<void> {
    const state = await this.inspect(ref);
    if (state.status === "running" && !force) {
      throw new RuntimeError(
        "CONTAINER_RUNNING",
        `container "${state.name}" is running; stop it with 'weft stop ${state.name}' or use 'weft rm -f ${state.name}'`,
      );
    }
    // Also when the app exited by itself: its sidecar may still run.
    if (state.status === "running" || state.sidecarPid !== undefined) await this.stop(state.id, 0);
    await this.locked(state.id, async () => {
      const p = this.parts;
      await p.runc.delete(state.id, true);
      await p.rootfs.unmount(join(this.store.containerDir(state.id), "rootfs"));
      await p.network.destroy(state.netns, state.hostVeth);
      await p.cgroups.remove(state.cgroupPath);
      if (state.sidecarCgroupPath) await p.injector.cleanup(state.sidecarCgroupPath);
      p.network.release(state.id);
      this.store.removeDir(state.id);
      this.containers.delete(state.id);
      this.logger.info(`removed ${state.name}`);
    });
    this.publish();
  }

  /** One sample of a running container's usage, over about half a second. */
  async stats(ref: string): Promise<ContainerStats> {
    const state = await this.inspect(ref);
    if (state.status !== "running") {
      throw new RuntimeError(
        "CONTAINER_NOT_RUNNING",
        `container "${state.name}" is not running; no stats to show`,
      );
    }
    return sampleStats(state, {
      cgroups: this.parts.cgroups,
      network: this.parts.network,
      clock: this.clock,
    });
  }

  /** Named volumes with the containers (running or not) that reference each. */
  listVolumes(): Array<VolumeInfo & { usedBy: string[] }> {
    return this.volumes.list().map((v) => ({ ...v, usedBy: this.volumeUsers(v.name) }));
  }

  createVolume(name: string): VolumeInfo {
    return this.volumes.create(name);
  }

  /** Refused while any container, even a stopped one, references the volume (as Docker does). */
  removeVolume(name: string): void {
    this.volumes.remove(name, this.volumeUsers(name));
  }

  private volumeUsers(name: string): string[] {
    return [...this.containers.values()]
      .filter((c) => (c.mounts ?? []).some((m) => m.type === "volume" && m.source === name))
      .map((c) => c.name);
  }

  importImage(tarPath: string, name: string): Promise<ImageInfo> {
    return this.parts.images.import(tarPath, name);
  }

  images(): ImageInfo[] {
    return this.parts.images.list();
  }

  /** Refused (IMAGE_IN_USE, 409) while a container was made from it, unless another name keeps it. */
  async removeImage(name: string): Promise<void> {
    const image = this.parts.images.get(name);
    const otherNames = this.parts.images.list().filter((i) => i.id === image.id && i.name !== name);
    const users = [...this.containers.values()].filter((s) => s.imageId === image.id).map((s) => s.name);
    if (users.length > 0 && otherNames.length === 0) {
      throw new ImageError(
        "IMAGE_IN_USE",
        `image "${name}" is used by container(s) ${users.join(", ")}; remove them first ('weft rm -f ${users[0]}')`,
      );
    }
    await this.parts.images.remove(name);
  }

  /** By exact name, exact id or unique id prefix. */
  private find(ref: string): ContainerState {
    const matches: ContainerState[] = [];
    for (const s of this.containers.values()) {
      if (s.name === ref || s.id === ref) return s;
      if (ref.length >= 3 && s.id.startsWith(ref)) matches.push(s);
    }
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new RuntimeError(
        "INVALID_ARGUMENT",
        `"${ref}" matches ${matches.length} containers; give more of the id`,
      );
    }
    throw new RuntimeError("CONTAINER_NOT_FOUND", `no such container "${ref}"; list them with 'weft ps -a'`);
  }

  private nameTaken(name: string): boolean {
    if (this.creating.has(name)) return true;
    for (const s of this.containers.values()) if (s.name === name) return true;
    return false;
  }

  /** Marks a container whose app runc no longer runs as exited (its state file too). */
  private async refresh(state: ContainerState): Promise<void> {
    if (state.status === "exited") return;
    const s = await this.parts.runc.state(state.id).catch(() => undefined);
    if (s && s.status !== "stopped") return;
    await this.recordOom(state);
    state.status = "exited";
    state.finishedAt = this.clock.now().toISOString();
    state.pid = undefined;
    this.store.save(state);
    this.publish();
    if (state.autoRemove) this.autoRemove(state);
  }

  /** Before anything removes the cgroup: its OOM counter is the only record of why the app died. */
  private async recordOom(state: ContainerState): Promise<void> {
    if ((await this.parts.cgroups.oomKills(state.cgroupPath)) > 0) {
      state.oomKilled = true;
      state.exitCode = 137;
    }
  }

  /** --rm: removes the container in the background once its app has exited; failures are logged. */
  private autoRemove(state: ContainerState): void {
    if (this.removing.has(state.id)) return;
    this.removing.add(state.id);
    setImmediate(() => {
      this.remove(state.id, true)
        .catch((err: Error) => {
          if (this.containers.has(state.id)) this.logger.warn(`--rm of ${state.name}: ${err.message}`);
        })
        .finally(() => this.removing.delete(state.id));
    });
  }

  private publish(): void {
    this.parts.registrar.update(
      [...this.containers.values()].filter((s) => s.status === "running" && !this.stopping.has(s.id)),
    );
  }

  /** Serialises operations on one container (a stop racing a remove). */
  private async locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(id, tail);
    try {
      return await next;
    } finally {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }
}
