// Merges bursts: fires `quietMs` after the last poke, but never later than `maxDelayMs` after the
// first one of the burst (Istio's PILOT_DEBOUNCE_AFTER / PILOT_DEBOUNCE_MAX).
export class Debouncer {
  private quiet?: NodeJS.Timeout;
  private max?: NodeJS.Timeout;

  constructor(
    private readonly quietMs: number,
    private readonly maxDelayMs: number,
    private readonly fire: () => void,
  ) {}

  poke(): void {
    clearTimeout(this.quiet);
    this.quiet = setTimeout(() => this.run(), this.quietMs);
    this.max ??= setTimeout(() => this.run(), this.maxDelayMs);
  }

  stop(): void {
    clearTimeout(this.quiet);
    clearTimeout(this.max);
    this.quiet = this.max = undefined;
  }

  private run(): void {
    this.stop();
    this.fire();
  }
}
