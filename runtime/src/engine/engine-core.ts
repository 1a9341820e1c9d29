// The engine's supervision core: the container table, per-container locks, registration, and what
// happens when an app exits (noticed through the monitor's exit file): record the code, emit `die`,
// stop the sidecar or apply the restart policy with its backoff. Engine (engine.ts) adds the verbs.
import { join } from "node:path";
import { RuntimeError } from "../errors";
import { VolumeStore } from "../volumes/index";
import { EventLog } from "./events";
import { readExitCode } from "./exits";
import { type Clock, type EngineParts, type Logger, stderrLogger, systemClock } from "./parts";
import { nextBackoffMs, shouldRestart } from "./restart-policy";
import { monitorPaths, sidecarStartOf, startContainer } from "./start-container";
import { StateStore } from "./state-store";
import type { ContainerState, EngineEvent, HealthState } from "./types";

const WATCH_INTERVAL_MS = 100;
export const SIDECAR_GRACE_MS = 6000;

export class EngineCore {
  protected readonly containers = new Map<string, ContainerState>();
  /** Containers a user is stopping: deregistered at once; their exit is handled by stop(). */
  protected readonly stopping = new Set<string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Exits being handled (the watcher must not handle one twice). */
  private readonly exiting = new Set<string>();
  /** Restart backoff per container: the last delay, and the pending timer's generation. */
  protected readonly backoff = new Map<string, { delayMs: number; generation: number }>();
  protected readonly store: StateStore;
  readonly volumes: VolumeStore;
  protected readonly clock: Clock;
  protected readonly logger: Logger;
  protected readonly eventLog: EventLog;
  private watcher?: NodeJS.Timeout;
  /** Callers waiting for an exit (wait()): while there are any, the watcher keeps the process alive. */
  private holds = 0;
  private generation = 0;

  constructor(protected readonly parts: EngineParts) {
    this.store = new StateStore(join(parts.stateDir, "containers"));
    this.volumes = new VolumeStore(join(parts.stateDir, "volumes"));
    this.clock = parts.clock ?? systemClock;
    this.logger = parts.logger ?? stderrLogger;
    this.eventLog = new EventLog(join(parts.stateDir, "events.jsonl"), this.clock, this.logger);
  }

  /** Starts noticing exits and crashed sidecars (load() calls it). */
  protected watch(): void {
    if (this.watcher) return;
    this.watcher = setInterval(() => this.tick(), WATCH_INTERVAL_MS);
    if (this.holds === 0) this.watcher.unref();
  }

  /**
   * Keeps the process alive until the returned function is called: the watcher is unref'd (a
   * daemon's servers keep it alive), but a caller awaiting an exit the watcher has yet to notice
   * would otherwise see its process end first, with the promise pending.
   */
  protected holdAlive(): () => void {
    this.holds++;
    this.watcher?.ref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds === 0) this.watcher?.unref();
    };
  }

  /** Stops the watcher and pending restarts; containers keep running (the next daemon adopts them). */
  close(): void {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = undefined;
    this.generation++;
    this.backoff.clear();
  }

  private tick(): void {
    for (const state of this.containers.values()) {
      if (state.status !== "running" || this.exiting.has(state.id) || this.stopping.has(state.id)) continue;
      if (readExitCode(this.exitFile(state)) !== undefined) {
        void this.noticeExit(state);
      } else if (
        state.sidecar &&
        state.sidecarPid !== undefined &&
        !this.parts.injector.alive(state.sidecarPid)
      ) {
        void this.restartSidecar(state);
      }
    }
  }

  protected exitFile(state: ContainerState): string {
    return monitorPaths(this.store.containerDir(state.id), state.id).exitFile;
  }

  /** Handles an exit the watcher (or a refresh) noticed; serialised with the container's other operations. */
  protected async noticeExit(state: ContainerState): Promise<void> {
    if (this.exiting.has(state.id)) return;
    this.exiting.add(state.id);
    try {
      await this.locked(state.id, () => this.handleExit(state));
    } catch (err) {
      this.logger.warn(`exit of ${state.name}: ${(err as Error).message}`);
    } finally {
      this.exiting.delete(state.id);
    }
  }

  /** Records the exit (code, OOM, time) and frees the runc container; idempotent. */
  protected async recordExit(state: ContainerState): Promise<boolean> {
    if (state.status !== "running") return false;
    const code = readExitCode(this.exitFile(state));
    if ((await this.parts.cgroups.oomKills(state.cgroupPath)) > 0) state.oomKilled = true;
    state.exitCode = state.oomKilled ? 137 : (code ?? 255);
    state.status = "exited";
    state.paused = undefined;
    state.finishedAt = this.clock.now().toISOString();
    state.pid = undefined;
    await this.parts.runc.delete(state.id, true).catch(() => undefined);
    this.parts.health?.unwatch(state.id);
    await this.parts.ports?.unpublish(state.id).catch(() => undefined);
    this.store.save(state);
    return true;
  }

  /** An app ended by itself: its sidecar goes too unless the restart policy brings the app back. */
  private async handleExit(state: ContainerState): Promise<void> {
    if (!(await this.recordExit(state))) return;
    this.publish();
    const ranMs = this.clock.now().getTime() - Date.parse(state.startedAt ?? state.created);
    const restart = shouldRestart(state.restartPolicy, {
      exitCode: state.exitCode ?? 0,
      stoppedByUser: state.stoppedByUser === true,
      restartCount: state.restartCount ?? 0,
    });
    if (state.oomKilled) this.emit("oom", state, {});
    if (restart) this.scheduleRestart(state, ranMs);
    this.emit("die", state, { exitCode: String(state.exitCode) });
    if (restart) return;
    await this.stopSidecar(state);
    this.store.save(state);
    this.logger.info(`${state.name} exited with ${state.exitCode}`);
    if (state.autoRemove) this.autoRemove(state);
  }

  protected async stopSidecar(state: ContainerState): Promise<void> {
    if (state.sidecarPid === undefined) return;
    await this.parts.injector.stop(state.sidecarPid, SIDECAR_GRACE_MS);
    state.sidecarPid = undefined;
  }

  /** "restarting" now; starts the app again after the backoff unless something else happened meanwhile. */
  protected scheduleRestart(state: ContainerState, ranMs: number): void {
    const delayMs = nextBackoffMs(this.backoff.get(state.id)?.delayMs, ranMs);
    const generation = ++this.generation;
    this.backoff.set(state.id, { delayMs, generation });
    state.status = "restarting";
    this.store.save(state);
    this.logger.info(`${state.name} exited with ${state.exitCode}; restarting in ${delayMs} ms`);
    void this.clock.sleep(delayMs).then(() =>
      this.locked(state.id, async () => {
        if (this.backoff.get(state.id)?.generation !== generation || state.status !== "restarting") return;
        if (!this.containers.has(state.id)) return;
        state.restartCount = (state.restartCount ?? 0) + 1;
        try {
          await this.startApp(state);
          this.emit("restart", state, {});
        } catch (err) {
          // A start that fails counts as an exit: the policy (and its backoff) decides again.
          this.logger.warn(`restart of ${state.name} failed: ${(err as Error).message}`);
          state.status = "exited";
          state.exitCode = 128;
          state.finishedAt = this.clock.now().toISOString();
          this.store.save(state);
          if (
            shouldRestart(state.restartPolicy, {
              exitCode: 128,
              stoppedByUser: false,
              restartCount: state.restartCount,
            })
          ) {
            this.scheduleRestart(state, 0);
          } else {
            await this.stopSidecar(state);
            this.store.save(state);
          }
        }
      }).catch((err: Error) => this.logger.warn(`restart of ${state.name}: ${err.message}`)),
    );
  }

  /**
   * Published ports, then sidecar and app, then registration and health checks. The ports come
   * first, as Docker maps them before the process starts: a port in use fails the start with
   * nothing running (the container stays as it was), instead of an app left up without its port.
   */
  protected async startApp(state: ContainerState): Promise<void> {
    // Also for an engine that was never load()ed (tests): exits must be noticed.
    this.watch();
    await this.publishPorts(state);
    try {
      await startContainer(
        { parts: this.parts, store: this.store, logger: this.logger, now: () => this.clock.now() },
        state,
      );
    } catch (err) {
      await this.parts.ports?.unpublish(state.id).catch(() => undefined);
      throw err;
    }
    this.emit("start", state, {});
    await this.afterStart(state, true);
  }

  /**
   * What a running app gets, also when adopted: health checks, published ports (unless `portsBound`
   * by startApp already), registration.
   */
  protected async afterStart(state: ContainerState, portsBound = false): Promise<void> {
    this.watchHealth(state);
    if (!portsBound) await this.publishPorts(state);
    this.publish();
  }

  /** Binds the container's published ports (0: a free one, saved as bound); PORT_IN_USE when taken. */
  private async publishPorts(state: ContainerState): Promise<void> {
    if (!state.publish || state.publish.length === 0) return;
    if (!this.parts.ports) {
      this.logger.warn(`${state.name}: no port publisher in this daemon; -p ignored`);
      return;
    }
    try {
      state.publish = await this.parts.ports.publish(state.id, state.address, state.publish);
      this.store.save(state);
    } catch (err) {
      this.logger.warn(`${state.name}: publishing ports failed: ${(err as Error).message}`);
      throw err;
    }
  }

  /** A sidecar died while its app runs: start it again (same netns; the redirect rules stayed). */
  private async restartSidecar(state: ContainerState): Promise<void> {
    if (this.exiting.has(state.id)) return;
    this.exiting.add(state.id);
    try {
      await this.locked(state.id, async () => {
        if (state.status !== "running" || state.sidecarPid === undefined) return;
        if (this.parts.injector.alive(state.sidecarPid)) return;
        this.logger.warn(`sidecar of ${state.name} (pid ${state.sidecarPid}) died; starting it again`);
        state.sidecarPid = undefined;
        if (state.sidecarCgroupPath)
          await this.parts.injector.cleanup(state.sidecarCgroupPath).catch(() => undefined);
        const s = await this.parts.injector.start(sidecarStartOf(state, this.store.containerDir(state.id)));
        state.sidecarPid = s.pid;
        state.sidecarCgroupPath = s.cgroupPath;
        this.store.save(state);
        this.emit("sidecar_restart", state, {});
      });
    } catch (err) {
      this.logger.warn(`sidecar of ${state.name}: ${(err as Error).message}`);
    } finally {
      this.exiting.delete(state.id);
    }
  }

  /** Starts the health checks of a container that has them (not while paused: a probe would freeze). */
  protected watchHealth(state: ContainerState): void {
    if (!state.healthcheck || !this.parts.health || state.paused) return;
    this.parts.health.watch({
      id: state.id,
      name: state.name,
      address: state.address,
      startedAt: state.startedAt ?? state.created,
      healthcheck: state.healthcheck,
      health: state.health,
    });
  }

  /** The health monitor's report: saved; registration follows the status; an event on a change. */
  healthChanged(id: string, health: HealthState): void {
    const state = this.containers.get(id);
    if (state?.status !== "running") return;
    const before = state.health?.status;
    state.health = health;
    this.store.save(state);
    if (before !== health.status) {
      this.emit(`health_status: ${health.status}`, state, {});
      this.publish();
    }
  }

  /** A container event carries the container's labels, as Docker's do: `docker events -f label=...`
   * and docker-compose's `events` select a project's containers by them. */
  protected emit(action: string, state: ContainerState, extra: Record<string, string>): EngineEvent {
    return this.eventLog.emit("container", action, state.id, {
      ...state.labels,
      name: state.name,
      image: state.image,
      ...extra,
    });
  }

  /** Registered: running and not paused, not being stopped, and healthy when it has a health check. */
  protected publish(): void {
    this.parts.registrar.update(
      [...this.containers.values()].filter(
        (s) =>
          s.status === "running" &&
          !s.paused &&
          !this.stopping.has(s.id) &&
          (!s.healthcheck || !this.parts.health || s.health?.status === "healthy"),
      ),
    );
  }

  /** --rm: removes the container in the background once its app has exited; failures are logged. */
  protected autoRemove(state: ContainerState): void {
    setImmediate(() => {
      this.removeContainer(state.id, true).catch((err: Error) => {
        if (this.containers.has(state.id)) this.logger.warn(`--rm of ${state.name}: ${err.message}`);
      });
    });
  }

  /** Overridden by Engine (remove). */
  protected removeContainer(_id: string, _force: boolean): Promise<void> {
    return Promise.resolve();
  }

  /** By exact name, exact id or unique id prefix. */
  protected find(ref: string): ContainerState {
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

  /** Serialises operations on one container (a stop racing an exit or a remove). */
  protected async locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
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
