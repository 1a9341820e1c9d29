// Test helper (not part of the public surface): a fan-out queue behind the fake engine's live output.

/** Pushes values to any number of async-iterating readers until closed. */
export class Feed<T> {
  private readonly readers = new Set<{ push: (v: T | undefined) => void }>();
  subscribe(): AsyncIterable<T> {
    const queue: Array<T | undefined> = [];
    let wake: (() => void) | undefined;
    const reader = {
      push: (v: T | undefined) => {
        queue.push(v);
        wake?.();
      },
    };
    this.readers.add(reader);
    const readers = this.readers;
    return {
      [Symbol.asyncIterator]: () => ({
        async next(): Promise<IteratorResult<T>> {
          while (queue.length === 0) await new Promise<void>((r) => (wake = r));
          const v = queue.shift();
          if (v === undefined) {
            readers.delete(reader);
            return { done: true, value: undefined };
          }
          return { done: false, value: v };
        },
        async return(): Promise<IteratorResult<T>> {
          readers.delete(reader);
          return { done: true, value: undefined };
        },
      }),
    };
  }
  push(v: T): void {
    for (const r of this.readers) r.push(v);
  }
  close(): void {
    for (const r of this.readers) r.push(undefined);
  }
}
