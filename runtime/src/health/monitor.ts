// Health checks of running containers: one loop per watched container, probing every interval. The
// result drives registration (the engine registers a container with a health check only while it is
// healthy), so the status rules follow Docker's exactly: starting until the first success or
// `retries` counted failures; failures inside the start period do not count, a success ends it.
import { type Clock, type Logger, systemClock } from "../engine/parts";
import type { HealthCheckSpec, HealthProbeResult, HealthState } from "../engine/types";
import { type ExecFn, probeResult, runProbe } from "./probe";

export interface HealthDeps {
  /** Runs args in the container; must kill the process after timeoutMs (exitCode -1 then). */
  exec: ExecFn;
  clock: Clock;
  logger: Logger;
  /** Every probe (and the initial state at watch); the engine saves, emits health_status on a change. */
  onChange(id: string, health: HealthState): void;
}

export interface WatchTarget {
  id: string;
  name: string;
  address: string;
  /** ISO time the app started: the start period counts from here. */
  startedAt: string;
  healthcheck: HealthCheckSpec;
  /** The state to carry on from (a daemon adopting a container); default: starting afresh. */
  health?: HealthState;
}

/** How many probe results a HealthState keeps. */
export const HEALTH_LOG_SIZE = 5;

export function initialHealth(): HealthState {
  return { status: "starting", failingStreak: 0, log: [] };
}

/** The state after one probe. `counts`: false for a failure inside the start period. */
export function nextHealth(
  prev: HealthState,
  result: HealthProbeResult,
  o: { retries: number; counts: boolean },
): HealthState {
  const log = [...prev.log, result].slice(-HEALTH_LOG_SIZE);
  if (result.exitCode === 0) return { status: "healthy", failingStreak: 0, log };
  if (!o.counts) return { ...prev, log };
  const failingStreak = prev.failingStreak + 1;
  const status = failingStreak >= Math.max(1, o.retries) ? "unhealthy" : prev.status;
  return { status, failingStreak, log };
}

interface Watch {
  target: WatchTarget;
  health: HealthState;
  /** Cleared by the first success: afterwards the start period no longer applies. */
  inStartPeriod: boolean;
  stopped: boolean;
  wake: () => void;
}

export class HealthMonitor {
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly deps: HealthDeps) {}

  /** Starts probing the container every interval; replaces an earlier watch of the same id. */
  watch(target: WatchTarget): void {
    this.unwatch(target.id);
    const w: Watch = {
      target,
      health: target.health ? structuredClone(target.health) : initialHealth(),
      inStartPeriod: target.healthcheck.startPeriodMs > 0,
      stopped: false,
      wake: () => {},
    };
    // A container that already passed a probe (adopted) is past its start period.
    if (w.health.log.some((r) => r.exitCode === 0)) w.inStartPeriod = false;
    this.watches.set(target.id, w);
    this.report(w);
    void this.loop(w);
  }

  /** Stops probing (a probe under way finishes but is not reported). */
  unwatch(id: string): void {
    const w = this.watches.get(id);
    if (!w) return;
    w.stopped = true;
    w.wake();
    this.watches.delete(id);
  }

  /** The current state of a watched container. */
  health(id: string): HealthState | undefined {
    const w = this.watches.get(id);
    return w ? structuredClone(w.health) : undefined;
  }

  close(): void {
    for (const id of [...this.watches.keys()]) this.unwatch(id);
  }

  private async loop(w: Watch): Promise<void> {
    const hc = w.target.healthcheck;
    while (!w.stopped) {
      await this.sleep(w, hc.intervalMs);
      if (w.stopped) return;
      const start = this.deps.clock.now();
      const outcome = await runProbe(w.target, this.deps.exec);
      if (w.stopped) return;
      const end = this.deps.clock.now();
      if (w.inStartPeriod && end.getTime() - Date.parse(w.target.startedAt) >= hc.startPeriodMs) {
        w.inStartPeriod = false;
      }
      const result = probeResult(start, end, outcome);
      const before = w.health.status;
      w.health = nextHealth(w.health, result, { retries: hc.retries, counts: !w.inStartPeriod });
      if (outcome.exitCode === 0) w.inStartPeriod = false;
      if (w.health.status !== before) {
        this.deps.logger.info(
          `container ${w.target.name}: health ${before} -> ${w.health.status} (${result.output.slice(0, 200)})`,
        );
      }
      this.report(w);
    }
  }

  /** The clock's sleep, cut short by unwatch. */
  private sleep(w: Watch, ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.deps.clock === systemClock) {
        // A real timer is cancelled on unwatch, so a closed monitor does not hold the process open
        // for up to an interval.
        const timer = setTimeout(resolve, ms);
        w.wake = () => {
          clearTimeout(timer);
          resolve();
        };
        return;
      }
      w.wake = resolve;
      this.deps.clock.sleep(ms).then(resolve, resolve);
    });
  }

  private report(w: Watch): void {
    try {
      this.deps.onChange(w.target.id, structuredClone(w.health));
    } catch (err) {
      this.deps.logger.warn(
        `container ${w.target.name}: saving its health failed: ${(err as Error).message}`,
      );
    }
  }
}
