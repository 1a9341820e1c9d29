// The runtime engine: container lifecycle over the parts it is given (engine/parts.ts). State lives in
// one JSON file per container and every app runs under its own monitor (conmon), so a restarted daemon
// finds its containers again (load(): adopt the running, record the exits, clean the half-made).
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { RuntimeError } from "../errors";
import { type BuildProgress, type BuildRequest, buildDockerfile } from "../image/dockerfile/build";
import { EngineCommit } from "./commit";
import { CREATING_MARKER, createContainer } from "./create-container";
import { waitExitFile } from "./exits";
import { generateName, newContainerId } from "./names";
import type { ImageInfo } from "./parts";
import { restartOnDaemonStart } from "./restart-policy";
import type { ContainerState, EngineEvent, RunSpec } from "./types";
import { checkContainerName } from "./validate";
import { parseSignal } from "./validate-lifecycle";

export type WaitCondition = "not-running" | "next-exit" | "removed";

export class Engine extends EngineCommit {
  /** attach() hands out the app's stdin (the Docker API then accepts OpenStdin, `run -i`). */
  get attachStdin(): boolean {
    return this.parts.runc.attachStdin !== undefined;
  }

  /** Names of containers being created: taken, though not yet in `containers`. */
  private readonly creating = new Set<string>();

  /** Reads every state file: adopts running apps, records exits that happened meanwhile, removes
   * containers a crash left half-made, then restarts what the restart policies say. */
  async load(): Promise<void> {
    const states = this.store.loadAll((id, err) =>
      this.logger.warn(
        `state of container ${id} (${join(this.store.containerDir(id), "state.json")}) is unreadable: ${(err as Error).message}; it is not listed or managed (if its app runs, it goes on running, its address reserved): put a good state.json back and restart the daemon to manage it again`,
      ),
    );
    const toRestart: ContainerState[] = [];
    // One `runc list` rather than a `runc state` per container: adoption time stays flat.
    const runcList = await this.parts.runc.list().catch((err: Error) => {
      this.logger.warn(`runc list failed, asking per container: ${err.message}`);
      return undefined;
    });
    const known = runcList && new Map(runcList.map((c) => [c.id, c]));
    for (const state of states) {
      this.containers.set(state.id, state);
      if (existsSync(join(this.store.containerDir(state.id), CREATING_MARKER))) {
        this.logger.warn(`${state.name} was left half-made by a crash; removing it`);
        await this.destroy(state).catch((err: Error) =>
          this.logger.warn(`cleanup of ${state.name}: ${err.message}`),
        );
        continue;
      }
      await this.adopt(state, toRestart, known);
    }
    this.sweepStateless();
    this.logger.info(`adopted ${this.containers.size} container(s) from ${this.store.dir}`);
    this.publish();
    this.watch();
    for (const state of toRestart) this.scheduleRestart(state, Number.POSITIVE_INFINITY);
  }

  private async adopt(
    state: ContainerState,
    toRestart: ContainerState[],
    known: Map<string, { status: string; pid: number }> | undefined,
  ): Promise<void> {
    const runc = known ? known.get(state.id) : await this.parts.runc.state(state.id).catch(() => undefined);
    const exited = existsSync(this.exitFile(state));
    if ((runc?.status === "running" || runc?.status === "paused") && !exited) {
      // Running: also when the daemon died between `runc start` and saving the state. Paused
      // (runc says so) is running too, and stays paused.
      const paused = runc.status === "paused" || undefined;
      if (state.status !== "running" || state.paused !== paused) {
        state.status = "running";
        state.paused = paused;
        state.startedAt ??= this.clock.now().toISOString();
        state.pid = runc.pid;
        this.store.save(state);
      }
      await this.afterStart(state).catch(() => undefined);
      return;
    }
    if (state.status === "running" || state.status === "restarting") {
      state.status = "running";
      await this.recordExit(state);
    } else {
      // Created by runc but never started (a crash mid-start): its monitor waits; free it. A sidecar
      // started for that start goes too.
      if (runc) await this.parts.runc.delete(state.id, true).catch(() => undefined);
      if (state.status === "created" && state.sidecarPid !== undefined) {
        await this.stopSidecar(state);
        this.store.save(state);
      }
    }
    if (state.status === "exited") {
      const again = restartOnDaemonStart(state.restartPolicy, {
        exitCode: state.exitCode ?? 0,
        stoppedByUser: state.stoppedByUser === true,
        restartCount: state.restartCount ?? 0,
      });
      if (again) {
        state.stoppedByUser = false;
        toRestart.push(state);
        return;
      }
      if (state.sidecarPid !== undefined) await this.stopSidecar(state);
      this.store.save(state);
      if (state.autoRemove) this.autoRemove(state);
    }
  }

  /** Folders a crash left before the first state file: only the marker, nothing else to undo. */
  private sweepStateless(): void {
    for (const id of this.store.listDirs()) {
      if (this.containers.has(id)) continue;
      if (existsSync(join(this.store.containerDir(id), CREATING_MARKER))) {
        this.parts.network.release(id);
        this.store.removeDir(id);
      }
    }
  }

  /** status "created": everything made, nothing runs; the name is taken. */
  async create(spec: RunSpec): Promise<ContainerState> {
    const state = await this.make(spec);
    rmSync(join(this.store.containerDir(state.id), CREATING_MARKER), { force: true });
    return state;
  }

  /** create + start; a failed start removes what create made. */
  async run(spec: RunSpec): Promise<ContainerState> {
    const state = await this.make(spec);
    try {
      await this.locked(state.id, () => this.startApp(state));
    } catch (err) {
      // Under the lock and marked as stopping: the watcher must not take the sidecar this undo
      // stops for a crashed one and start it again (which left the undo half done).
      this.stopping.add(state.id);
      await this.locked(state.id, () => this.destroy(state))
        .catch((e: Error) => this.logger.warn(`undoing ${state.name}: ${e.message}`))
        .finally(() => this.stopping.delete(state.id));
      throw err;
    }
    rmSync(join(this.store.containerDir(state.id), CREATING_MARKER), { force: true });
    this.logger.info(`started ${state.name} (${state.id.slice(0, 12)}) at ${state.address}`);
    return state;
  }

  private async make(spec: RunSpec): Promise<ContainerState> {
    const name = spec.name ?? generateName((n) => this.nameTaken(n));
    if (this.nameTaken(name)) {
      throw new RuntimeError(
        "NAME_IN_USE",
        `container name "${name}" is already in use; remove it with 'weft rm ${name}' or choose another --name`,
      );
    }
    // Before anything is made: a network that does not exist is the caller's to create first.
    const networks = this.resolveNetworks(spec.networks);
    this.creating.add(name);
    try {
      const ctx = {
        parts: this.parts,
        store: this.store,
        clock: this.clock,
        logger: this.logger,
        volumes: this.volumes,
      };
      const state = await createContainer(ctx, { ...spec, networks }, newContainerId(), name);
      this.containers.set(state.id, state);
      this.emit("create", state, {});
      return state;
    } finally {
      this.creating.delete(name);
    }
  }

  /** created|exited → running (sidecar ready first); a running one is left as it is. */
  async start(ref: string): Promise<ContainerState> {
    const state = this.find(ref);
    return this.locked(state.id, async () => {
      if (state.status === "running") return state;
      this.backoff.delete(state.id);
      state.stoppedByUser = false;
      state.restartCount = 0;
      try {
        await this.startApp(state);
      } catch (err) {
        // --rm: one that cannot start goes as one that exited would (docker run --rm waits for the
        // removal, and hung on a command missing from the image).
        if (state.autoRemove) this.autoRemove(state);
        throw err;
      }
      return state;
    });
  }

  /** Deregisters, sends the stop signal, SIGKILLs after the timeout, then the sidecar drains and exits. */
  async stop(ref: string, timeoutS?: number): Promise<ContainerState> {
    const state = this.find(ref);
    return this.locked(state.id, async () => {
      state.stoppedByUser = true;
      this.backoff.delete(state.id);
      if (state.status === "restarting") state.status = "exited";
      this.stopping.add(state.id);
      try {
        this.publish();
        if (state.status === "running") {
          // A frozen app could not act on the signal, nor even die of SIGKILL under cgroup v1.
          await this.thaw(state).catch((err: Error) =>
            this.logger.warn(`resuming ${state.name} to stop it: ${err.message}`),
          );
          const exitFile = this.exitFile(state);
          const graceMs = (timeoutS ?? state.stopTimeoutS ?? 10) * 1000;
          await this.parts.runc.kill(state.id, state.stopSignal ?? "SIGTERM").catch(() => undefined);
          if (!(await waitExitFile(exitFile, graceMs, this.clock))) {
            this.logger.info(`${state.name} did not stop within ${graceMs / 1000}s; sending SIGKILL`);
            await this.parts.runc.kill(state.id, "SIGKILL").catch(() => undefined);
            if (!(await waitExitFile(exitFile, 10_000, this.clock))) {
              throw new RuntimeError(
                "INTERNAL",
                `container "${state.name}" survived SIGKILL; see 'runc state ${state.id}'`,
              );
            }
          }
          await this.recordExit(state);
          this.emit("die", state, { exitCode: String(state.exitCode) });
        }
        await this.stopSidecar(state);
        this.store.save(state);
        this.emit("stop", state, {});
        this.logger.info(`stopped ${state.name}`);
        if (state.autoRemove) this.autoRemove(state);
        return state;
      } finally {
        this.stopping.delete(state.id);
        this.publish();
      }
    });
  }

  /** Sends a signal to the app; CONTAINER_NOT_RUNNING when it does not run. */
  async kill(ref: string, signalGiven = "SIGKILL"): Promise<void> {
    // A name runc does not know would fail there, with runc's log line: refused here, as Docker does.
    const signal = parseSignal(signalGiven, "signal");
    const state = this.find(ref);
    if (state.status !== "running") {
      throw new RuntimeError(
        "CONTAINER_NOT_RUNNING",
        `container "${state.name}" is not running; nothing to signal`,
      );
    }
    const sigkill = signal === "SIGKILL";
    if (state.paused && !sigkill) {
      throw new RuntimeError(
        "CONTAINER_PAUSED",
        `container "${state.name}" is paused and would not see the signal; 'weft unpause ${state.name}' first, or 'weft stop' it`,
      );
    }
    // As Docker: killing with the stop signal or SIGKILL counts as a user's stop (no restart).
    if (sigkill || signal === state.stopSignal) {
      state.stoppedByUser = true;
      this.store.save(state);
    }
    await this.parts.runc.kill(state.id, signal);
    this.emit("kill", state, { signal });
    await this.thaw(state);
  }

  async restart(ref: string, timeoutS?: number): Promise<ContainerState> {
    await this.stop(ref, timeoutS);
    const state = await this.start(ref);
    this.emit("restart", state, {});
    return state;
  }

  /** Builds a Dockerfile as Docker's classic builder does (docker build; image/dockerfile/build.ts). */
  build(req: BuildRequest, progress: BuildProgress): Promise<ImageInfo> {
    return buildDockerfile(this, req, progress);
  }

  /** Resolves when the condition holds, with the app's exit code. */
  wait(
    ref: string,
    condition: WaitCondition = "not-running",
  ): Promise<{ exitCode: number; oomKilled: boolean }> {
    const state = this.find(ref);
    const result = () => ({ exitCode: state.exitCode ?? 0, oomKilled: state.oomKilled === true });
    if (condition === "not-running" && (state.status === "exited" || state.status === "created")) {
      return Promise.resolve(result());
    }
    return new Promise((resolve) => {
      const release = this.holdAlive();
      const off = this.subscribe((e) => {
        if (e.id !== state.id) return;
        // A user's stop of a "restarting" container ends it without a new die.
        const done =
          condition === "removed"
            ? e.action === "destroy"
            : (e.action === "die" && (condition === "next-exit" || state.status !== "restarting")) ||
              (condition === "not-running" && (e.action === "stop" || e.action === "destroy"));
        if (!done) return;
        off();
        release();
        resolve(result());
      });
    });
  }

  subscribe(listener: (e: EngineEvent) => void): () => void {
    return this.eventLog.subscribe(listener);
  }

  events(since?: Date, until?: Date): EngineEvent[] {
    return this.eventLog.list(since, until);
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
    if (state.status === "running" || state.status === "restarting" || state.sidecarPid !== undefined) {
      await this.stop(state.id, 0);
    }
    await this.locked(state.id, () => this.destroy(state));
    this.emit("destroy", state, {});
    this.publish();
  }

  protected override removeContainer(id: string, force: boolean): Promise<void> {
    return this.remove(id, force);
  }

  /** Everything made for the container, idempotent (also for half-made ones). */
  private async destroy(state: ContainerState): Promise<void> {
    const p = this.parts;
    this.backoff.delete(state.id);
    p.health?.unwatch(state.id);
    await p.ports?.unpublish(state.id).catch(() => undefined);
    if (state.sidecarPid !== undefined) await p.injector.stop(state.sidecarPid, 2000);
    await p.runc.delete(state.id, true);
    await p.rootfs.unmount(join(this.store.containerDir(state.id), "rootfs"));
    if (state.netns) await p.network.destroy(state.netns, state.hostVeth);
    if (state.cgroupPath) await p.cgroups.remove(state.cgroupPath);
    if (state.sidecarCgroupPath) await p.injector.cleanup(state.sidecarCgroupPath);
    p.network.release(state.id);
    this.store.removeDir(state.id);
    this.containers.delete(state.id);
    this.logger.info(`removed ${state.name}`);
  }

  /**
   * Gives a container another name, as docker rename: running or not, its processes, address and
   * hostname stay as they are; the registry, logs shipped from now on and every verb use the new
   * name. Its sidecar reports the old one in spans and access logs until it next starts.
   */
  async rename(ref: string, newName: string): Promise<ContainerState> {
    checkContainerName(newName);
    const state = this.find(ref);
    return this.locked(state.id, async () => {
      if (state.name === newName) return state;
      if (this.nameTaken(newName)) {
        throw new RuntimeError(
          "NAME_IN_USE",
          `container name "${newName}" is already in use; remove that container or choose another name`,
        );
      }
      const oldName = state.name;
      state.name = newName;
      this.store.save(state);
      this.publish();
      this.emit("rename", state, { oldName: `/${oldName}` });
      this.logger.info(`renamed ${oldName} (${state.id.slice(0, 12)}) to ${newName}`);
      return state;
    });
  }

  private nameTaken(name: string): boolean {
    if (this.creating.has(name)) return true;
    for (const s of this.containers.values()) if (s.name === name) return true;
    return false;
  }
}
