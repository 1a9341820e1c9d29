// Generated bad input for the tests that search for it (request streams, OTLP bodies, API writes,
// manifests, config documents): a seeded random so a failure replays from the seed it names, the
// seed and case count from the environment, and value mutations of JSON-like documents.

/** mulberry32: the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The first seed and how many cases: WEFT_FUZZ_SEED and WEFT_FUZZ_CASES, else the test's own. */
export function fuzzRun(defaultCases: number): { seed: number; cases: number } {
  return {
    seed: Number(process.env.WEFT_FUZZ_SEED ?? 20261202),
    cases: Number(process.env.WEFT_FUZZ_CASES ?? defaultCases),
  };
}

/** How to say a failing case again, by itself. */
export function replay(seed: number): string {
  return `seed ${seed} (WEFT_FUZZ_SEED=${seed} WEFT_FUZZ_CASES=1)`;
}

export interface MutateOptions {
  /** The values a slot may be given instead of its own. Default: none (then `replace` is needed). */
  wrong?: readonly unknown[];
  /** The new value for a slot; default: one of `wrong`. */
  replace?: (current: unknown, r: () => number) => unknown;
  /** Chance an edit removes its slot instead (an object's key, an array's item). Default 0. */
  drop?: number;
  /** Chance an edit copies a key under a misspelt name (the name and `misspelling`). Default 0. */
  misspell?: number;
  /** Added to a misspelt key. Default "x". */
  misspelling?: string;
  /** Keys whose values are never changed (those that say where a document goes). */
  keep?: readonly string[];
}

/** A copy of `value` with one to three of its slots (any depth) changed as `o` says. */
export function mutateValues(r: () => number, value: unknown, o: MutateOptions): unknown {
  const root = structuredClone(value);
  const slots: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v))
      for (const [i, x] of v.entries()) {
        slots.push([v, i]);
        walk(x);
      }
    else if (v && typeof v === "object")
      for (const [k, x] of Object.entries(v)) {
        if (!o.keep?.includes(k)) slots.push([v as Record<string, unknown>, k]);
        walk(x);
      }
  };
  walk(root);
  const wrong = o.wrong ?? [];
  const replace = o.replace ?? (() => wrong[Math.floor(r() * wrong.length)]);
  for (let n = 1 + Math.floor(r() * 3); n > 0 && slots.length > 0; n--) {
    const [holder, key] = slots[Math.floor(r() * slots.length)] as [Record<string, unknown>, string];
    const choice = r();
    if (choice < (o.drop ?? 0)) {
      if (Array.isArray(holder)) holder.splice(Number(key), 1);
      else delete holder[key];
    } else if (choice < (o.drop ?? 0) + (o.misspell ?? 0) && !Array.isArray(holder)) {
      holder[`${key}${o.misspelling ?? "x"}`] = holder[key];
    } else holder[key] = replace(holder[key], r);
  }
  return root;
}
