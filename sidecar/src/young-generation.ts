// Holds V8's young generation (new space) of the sidecar's process at a cap. V8 doubles new space
// each time enough bytes have survived scavenges since the last doubling, up to 2 x 16 MB, and
// never gives it back while allocation goes on: at a steady 1000 req/s it reached 32 MB within 20 s
// and stayed, a third of a sidecar's RSS. The cap would be `--max-semi-space-size`, but any heap
// size flag given at start changes V8's flag hash, so node refuses its embedded code cache and
// compiles its own modules at every start (+25 ms). The growth factor is read at each doubling, so
// it can change at run time: growth stays on (factor 2) until new space reaches the cap, then off.
// The switch changes the flag hash too, so a node module first required after it compiles without
// the cache (57 of 80 in a probe that required zlib, http2 and readline after it). A sidecar has
// loaded its modules by then: new space is 2 MB at ready and reaches the cap only under traffic
// (78 modules from the cache, none without, in four starts).
import v8 from "node:v8";

/** Default cap of new space (both semi-spaces): 2 MB semi-spaces. */
export const YOUNG_GENERATION_CAP_BYTES = 4 * 1024 * 1024;

export interface YoungGenerationCap {
  /** new space's size when last looked at. */
  readonly sizeBytes: () => number;
  stop(): void;
}

let installed: YoungGenerationCap | undefined;

/**
 * Caps new space at `capBytes` for this process (once: sidecars started in one test process share
 * it). Checked every `checkMs`; a doubling between two checks can overshoot the cap once, by one
 * step. It never shrinks new space: install it before the load (a sidecar's is 2 MB at ready).
 */
export function capYoungGeneration(capBytes = YOUNG_GENERATION_CAP_BYTES, checkMs = 250): YoungGenerationCap {
  if (installed) return installed;
  let factor = 2;
  let size = newSpaceBytes();
  const check = () => {
    size = newSpaceBytes();
    const want = size >= capBytes ? 1 : 2;
    if (want === factor) return;
    factor = want;
    v8.setFlagsFromString(`--semi-space-growth-factor=${want}`);
  };
  check();
  const timer = setInterval(check, checkMs);
  timer.unref();
  installed = {
    sizeBytes: () => size,
    stop() {
      clearInterval(timer);
      v8.setFlagsFromString("--semi-space-growth-factor=2");
      installed = undefined;
    },
  };
  return installed;
}

function newSpaceBytes(): number {
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === "new_space") return s.space_size;
  return 0;
}
