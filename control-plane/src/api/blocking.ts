// Consul-style blocking queries: `?index=N&wait=5s` holds a request until the registry's index
// passes N or the wait elapses, so watchers learn about changes without polling.
import { HttpError } from "./respond";

/** What a blocking query waits on: the registry, or the KV store (each with its own index). */
export interface Indexed {
  index(): number;
  onChange(listener: (change: { index: number }) => void): () => void;
}

/** Consul caps waits at 10 minutes and defaults to 5. */
export const MAX_WAIT_MS = 10 * 60_000;
export const DEFAULT_WAIT_MS = 5 * 60_000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration ("5s", "1m30s", "250ms"; bare digits are seconds); throws a 400. */
export function parseWait(text: string): number {
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_WAIT_MS);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw new HttpError(400, `wait "${text}" is not a duration; use e.g. wait=5s or wait=250ms`);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  return Math.min(ms, MAX_WAIT_MS);
}

/** Parses ?index=N; throws a 400 naming the parameter. */
export function parseIndex(text: string): number {
  if (!/^\d{1,15}$/.test(text)) {
    throw new HttpError(
      400,
      `index "${text}" must be a non-negative integer (the X-Consul-Index of an earlier answer)`,
    );
  }
  return Number(text);
}

/**
 * Resolves once registry.index() (or the KV store's) > afterIndex, after waitMs, or when `signal` aborts (the client
 * went away or the server is closing), whichever comes first.
 */
export function waitForIndex(
  registry: Indexed,
  afterIndex: number,
  waitMs: number,
  signal: AbortSignal,
): Promise<void> {
  if (registry.index() > afterIndex || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, waitMs);
    const unsubscribe = registry.onChange((change) => {
      if (change.index > afterIndex) done();
    });
    signal.addEventListener("abort", done);
  });
}
