// A retry budget per service, as Linkerd's (after Finagle's): over a sliding window, retries may
// be at most `ratio` of the requests plus a small floor per second. When an upstream fails every
// request, retries then add at most `ratio` more load instead of multiplying it by the attempts.
/** Sliding window of the budget (Linkerd: 10 s). */
export const RETRY_BUDGET_WINDOW_MS = 10_000;
/** Retries always allowed per second, so a quiet service can still retry (Linkerd: 10). */
export const RETRY_BUDGET_MIN_PER_SECOND = 10;
/** Slots the window is counted in (1 s each). */
const SLOTS = 10;

export class RetryBudget {
  private readonly requests = new Array<number>(SLOTS).fill(0);
  private readonly retries = new Array<number>(SLOTS).fill(0);
  private slot = 0;
  private slotStartMs: number | undefined;

  /** One new request (not a retry) was sent. */
  request(nowMs: number): void {
    this.advance(nowMs);
    this.requests[this.slot]!++;
  }

  /** Takes one retry from the budget if it has one; false: the budget is spent. */
  tryRetry(ratio: number, nowMs: number): boolean {
    this.advance(nowMs);
    const requests = sum(this.requests);
    const retries = sum(this.retries);
    const allowed = ratio * requests + (RETRY_BUDGET_MIN_PER_SECOND * RETRY_BUDGET_WINDOW_MS) / 1000;
    if (retries + 1 > allowed) return false;
    this.retries[this.slot]!++;
    return true;
  }

  private advance(nowMs: number): void {
    const slotMs = RETRY_BUDGET_WINDOW_MS / SLOTS;
    if (this.slotStartMs === undefined) {
      this.slotStartMs = nowMs;
      return;
    }
    const steps = Math.floor((nowMs - this.slotStartMs) / slotMs);
    if (steps <= 0) return;
    for (let i = 0; i < Math.min(steps, SLOTS); i++) {
      this.slot = (this.slot + 1) % SLOTS;
      this.requests[this.slot] = 0;
      this.retries[this.slot] = 0;
    }
    this.slotStartMs += steps * slotMs;
  }
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
