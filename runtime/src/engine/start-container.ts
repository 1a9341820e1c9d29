// Starting a created (or exited) container: its sidecar first (ready before the app, so the app's
// first connection is already in the mesh), then the app under its monitor (conmon → runc create),
// then `runc start`. A failure stops what this call started and leaves the container as it was.
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { EngineParts, Logger } from "./parts";
import type { StateStore } from "./state-store";
import type { ContainerState } from "./types";

/** Where the monitor writes the app's output and its exit code, inside the container's folder. */
export function monitorPaths(
  dir: string,
  id: string,
): { logPath: string; exitDir: string; exitFile: string } {
  return { logPath: join(dir, "ctr.log"), exitDir: join(dir, "exit"), exitFile: join(dir, "exit", id) };
}

export async function startContainer(
  ctx: { parts: EngineParts; store: StateStore; logger: Logger; now: () => Date },
  state: ContainerState,
): Promise<void> {
  const { parts, store } = ctx;
  const dir = store.containerDir(state.id);
  let startedSidecar: number | undefined;
  if (state.sidecar && !(state.sidecarPid !== undefined && parts.injector.alive(state.sidecarPid))) {
    const sidecar = await parts.injector.start({
      id: state.id,
      name: state.name,
      dir,
      netns: state.netns,
      netnsPath: `/var/run/netns/${state.netns}`,
      address: state.address,
      service: state.service,
      ports: state.ports,
      labels: state.labels,
    });
    startedSidecar = sidecar.pid;
    state.sidecarPid = sidecar.pid;
    state.sidecarCgroupPath = sidecar.cgroupPath;
    store.save(state);
  }
  let startedAt = "";
  try {
    // The previous run's stopped runc container and exit file: the id is reused.
    await parts.runc.delete(state.id, true);
    const paths = monitorPaths(dir, state.id);
    rmSync(paths.exitFile, { force: true });
    state.pid = await parts.runc.create({
      id: state.id,
      name: state.name,
      bundle: dir,
      logPath: paths.logPath,
      exitDir: paths.exitDir,
      tty: state.tty,
      interactive: state.interactive,
    });
    // Taken before `runc start` lets the app run: anything it writes is stamped after this.
    startedAt = ctx.now().toISOString();
    try {
      await parts.runc.start(state.id);
    } catch (err) {
      await parts.runc.delete(state.id, true).catch(() => undefined);
      throw err;
    }
  } catch (err) {
    state.pid = undefined;
    if (startedSidecar !== undefined) {
      await parts.injector.stop(startedSidecar, 2000);
      state.sidecarPid = undefined;
    }
    state.error = (err as Error).message;
    store.save(state);
    throw err;
  }
  state.status = "running";
  state.startedAt = startedAt;
  state.finishedAt = undefined;
  state.exitCode = undefined;
  state.oomKilled = undefined;
  state.error = undefined;
  store.save(state);
}
