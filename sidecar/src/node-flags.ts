// The node flags every sidecar runs with (the daemon's injector passes them; the benches too, so
// they measure what production runs). None, on purpose; measured on this 2-core machine:
// - Any V8 heap or GC flag changes V8's flag hash, so node's embedded code cache for its own
//   modules is refused and they are compiled at every start: +25 ms to a sidecar's start (about
//   140 ms to 165 ms), whatever the flag.
// - --max-semi-space-size=4 would keep the young generation at 8 MB instead of 32 MB under load:
//   about 18 MB less RSS at 1000 req/s with telemetry on (95 MB to 78 MB).
// - --single-threaded (no V8 worker threads) saved about a fifth of the CPU while the machine was
//   overloaded, and nothing measurable on a quiet one.
// Start time won; revisit when the young generation costs more than 25 ms per start is worth.
export const SIDECAR_NODE_FLAGS: readonly string[] = [];
