// Restart policies (Docker's): whether an exited app starts again, and after how long. The backoff
// doubles from 100 ms to 1 min and starts over once the app has run for 10 s.
import type { RestartPolicy } from "./types";

export const BACKOFF_FIRST_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
/** An app that ran at least this long before exiting gets the first delay again. */
export const BACKOFF_RESET_AFTER_MS = 10_000;

/** After an exit the engine saw (the daemon was up): a user's stop never restarts. */
export function shouldRestart(
  policy: RestartPolicy | undefined,
  o: { exitCode: number; stoppedByUser: boolean; restartCount: number },
): boolean {
  if (!policy || o.stoppedByUser) return false;
  switch (policy.name) {
    case "always":
    case "unless-stopped":
      return true;
    case "on-failure":
      return o.exitCode !== 0 && (policy.maxRetries === 0 || o.restartCount < policy.maxRetries);
    default:
      return false;
  }
}

/** When the daemon starts: "always" starts even user-stopped containers, "unless-stopped" does not. */
export function restartOnDaemonStart(
  policy: RestartPolicy | undefined,
  o: { exitCode: number; stoppedByUser: boolean; restartCount: number },
): boolean {
  if (policy?.name === "always") return true;
  return shouldRestart(policy, o);
}

/** The next delay: the previous one doubled (capped), or the first when the app ran long enough. */
export function nextBackoffMs(previousMs: number | undefined, ranMs: number): number {
  if (previousMs === undefined || ranMs >= BACKOFF_RESET_AFTER_MS) return BACKOFF_FIRST_MS;
  return Math.min(previousMs * 2, BACKOFF_MAX_MS);
}
