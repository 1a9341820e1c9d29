// weft pause and unpause: a running app's processes frozen by runc pause (the freezer cgroup) and
// thawed again. A paused container is out of the registry and its health checks stop (a probe would
// freeze too); Engine's stop and kill thaw it first.
import { RuntimeError } from "../errors";
import { EngineFiles } from "./files";
import type { ContainerState } from "./types";

export class EnginePausing extends EngineFiles {
  /** Freezes the app's processes (runc pause) and takes it out of the registry until unpause. */
  async pause(ref: string): Promise<ContainerState> {
    const state = this.find(ref);
    await this.refresh(state); // an exit not handled yet is (outside the lock: handling takes it)
    return this.locked(state.id, async () => {
      if (state.status !== "running")
        throw new RuntimeError(
          "CONTAINER_NOT_RUNNING",
          `container "${state.name}" is not running; nothing to pause`,
        );
      if (state.paused)
        throw new RuntimeError("CONTAINER_PAUSED", `container "${state.name}" is already paused`);
      // Out of the registry first, so no new request is sent to an app that cannot answer it.
      state.paused = true;
      this.publish();
      try {
        await this.parts.runc.pause(state.id);
      } catch (err) {
        state.paused = undefined;
        this.publish();
        throw new RuntimeError("INTERNAL", `pausing "${state.name}" failed: ${(err as Error).message}`);
      }
      this.parts.health?.unwatch(state.id);
      this.store.save(state);
      this.emit("pause", state, {});
      return state;
    });
  }

  /** Thaws a paused app; it is registered again (once healthy, when it has a health check). */
  async unpause(ref: string): Promise<ContainerState> {
    const state = this.find(ref);
    return this.locked(state.id, async () => {
      if (state.status !== "running" || !state.paused)
        throw new RuntimeError("CONTAINER_NOT_PAUSED", `container "${state.name}" is not paused`);
      await this.thaw(state);
      this.emit("unpause", state, {});
      return state;
    });
  }

  /** Resumes a paused app (no-op otherwise): its health checks start again and it is registered. */
  protected async thaw(state: ContainerState): Promise<void> {
    if (!state.paused) return;
    await this.parts.runc.resume(state.id);
    state.paused = undefined;
    this.store.save(state);
    this.watchHealth(state);
    this.publish();
  }
}
