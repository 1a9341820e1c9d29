// Undo steps for a multi-step operation: each step that made something pushes how to unmake it; on
// failure they run newest first, and a failing undo is logged, not thrown, so the rest still run and
// the original error reaches the user.

export class Rollback {
  private readonly steps: Array<{ what: string; undo: () => Promise<void> | void }> = [];

  constructor(private readonly onUndoError: (what: string, err: unknown) => void) {}

  push(what: string, undo: () => Promise<void> | void): void {
    this.steps.push({ what, undo });
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.undo();
      } catch (err) {
        this.onUndoError(step.what, err);
      }
    }
  }

  /** The step names still to undo, newest last (for tests and logs). */
  pending(): string[] {
    return this.steps.map((s) => s.what);
  }
}
