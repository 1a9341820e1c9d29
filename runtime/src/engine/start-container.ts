// Starting a created (or exited) container: its sidecar (ready and capturing before the app runs, so
// the app's first connection is already in the mesh) while the app is created under its monitor
// (conmon → runc create), then `runc start`. A failure stops what this call started and leaves the
// container as it was.
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { EngineParts, Logger, SidecarStart } from "./parts";
import type { StateStore } from "./state-store";
import type { ContainerState } from "./types";

/** Where the monitor writes the app's output and its exit code, inside the container's folder. */
export function monitorPaths(
  dir: string,
  id: string,
): { logPath: string; exitDir: string; exitFile: string } {
  return { logPath: join(dir, "ctr.log"), exitDir: join(dir, "exit"), exitFile: join(dir, "exit", id) };
}

/** What the injector needs to start a container's sidecar (at start, and again after a crash). */
export function sidecarStartOf(state: ContainerState, dir: string): SidecarStart {
  return {
    id: state.id,
    name: state.name,
    dir,
    netns: state.netns,
    netnsPath: `/var/run/netns/${state.netns}`,
    address: state.address,
    service: state.service,
    ports: state.ports,
    labels: state.labels,
  };
}

export async function startContainer(
  ctx: { parts: EngineParts; store: StateStore; logger: Logger; now: () => Date },
  state: ContainerState,
): Promise<void> {
  const { parts, store } = ctx;
  const dir = store.containerDir(state.id);
  const paths = monitorPaths(dir, state.id);
  // The sidecar and `runc create` overlap: create only prepares the app (runc init waits), and the
  // app runs at `runc start`, which comes after the sidecar is ready and capturing.
  const needsSidecar =
    state.sidecar && !(state.sidecarPid !== undefined && parts.injector.alive(state.sidecarPid));
  const sidecarStart = needsSidecar ? parts.injector.start(sidecarStartOf(state, dir)) : undefined;
  const appCreate = (async () => {
    // A container that ran before has a stopped runc container and an exit file under its id.
    if (state.startedAt !== undefined || state.error !== undefined) {
      await parts.runc.delete(state.id, true);
      rmSync(paths.exitFile, { force: true });
    }
    return parts.runc.create({
      id: state.id,
      name: state.name,
      bundle: dir,
      logPath: paths.logPath,
      exitDir: paths.exitDir,
      tty: state.tty,
      interactive: state.interactive,
      stdinOnce: state.stdinOnce,
    });
  })();
  const [sidecar, app] = await Promise.allSettled([sidecarStart, appCreate]);
  let startedAt = "";
  try {
    if (sidecar.status === "fulfilled" && sidecar.value) {
      state.sidecarPid = sidecar.value.pid;
      state.sidecarCgroupPath = sidecar.value.cgroupPath;
      store.save(state);
    }
    if (sidecar.status === "rejected") throw sidecar.reason;
    if (app.status === "rejected") throw app.reason;
    state.pid = app.value;
    // Taken before `runc start` lets the app run: anything it writes is stamped after this.
    startedAt = ctx.now().toISOString();
    await parts.runc.start(state.id, app.value);
  } catch (err) {
    if (app.status === "fulfilled") await parts.runc.delete(state.id, true).catch(() => undefined);
    state.pid = undefined;
    if (sidecar.status === "fulfilled" && sidecar.value) {
      await parts.injector.stop(sidecar.value.pid, 2000);
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
