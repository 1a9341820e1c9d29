// Stopping a container's app through runc: SIGTERM, a grace period, then SIGKILL.
import { RuntimeError } from "../errors";
import type { Clock, Logger, RuncPart } from "./parts";
import type { ContainerState } from "./types";

export interface StopDeps {
  runc: RuncPart;
  clock: Clock;
  logger: Logger;
}

export async function appRunning(runc: RuncPart, id: string): Promise<boolean> {
  const s = await runc.state(id).catch(() => undefined);
  return s !== undefined && s.status !== "stopped";
}

async function waitStopped(d: StopDeps, id: string, timeoutMs: number): Promise<boolean> {
  const deadline = d.clock.now().getTime() + timeoutMs;
  for (;;) {
    if (!(await appRunning(d.runc, id))) return true;
    if (d.clock.now().getTime() >= deadline) return false;
    await d.clock.sleep(100);
  }
}

/** SIGTERM, then SIGKILL after `timeoutS`; throws only if the app survives SIGKILL for 10 s. */
export async function stopApp(d: StopDeps, state: ContainerState, timeoutS: number): Promise<void> {
  if (!(await appRunning(d.runc, state.id))) return;
  await d.runc.kill(state.id, "SIGTERM").catch(() => undefined);
  if (await waitStopped(d, state.id, timeoutS * 1000)) return;
  d.logger.info(`${state.name} did not stop within ${timeoutS}s; sending SIGKILL`);
  await d.runc.kill(state.id, "SIGKILL").catch(() => undefined);
  if (!(await waitStopped(d, state.id, 10_000))) {
    throw new RuntimeError(
      "INTERNAL",
      `container "${state.name}" survived SIGKILL; see 'runc state ${state.id}'`,
    );
  }
}
