// The node flags every sidecar runs with (the daemon's injector passes them; the benches too, so
// they measure what production runs). None, on purpose; measured on this 2-core machine:
// - Any V8 heap or GC flag changes V8's flag hash, so node's embedded code cache for its own
//   modules is refused and they are compiled at every start: +25 ms to a sidecar's start (about
//   140 ms to 165 ms), whatever the flag.
// - --max-semi-space-size would cap the young generation, which grows to 32 MB under load; the cap
//   is set at run time instead (young-generation.ts), where it costs no start time.
// - --single-threaded (no V8 worker threads) saved about a fifth of the CPU while the machine was
//   overloaded, and nothing measurable on a quiet one.
export const SIDECAR_NODE_FLAGS: readonly string[] = [];
