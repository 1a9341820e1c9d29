// The node flags every sidecar runs with (the daemon's injector passes them; the benches too, so
// they measure what production runs). A node process sizes itself for a whole machine; a sidecar
// is one of many small processes sharing it:
// - --single-threaded: no V8 worker threads for garbage collection and optimising compilation.
//   Under load they cost a sidecar about a fifth more CPU in total than doing the same work on
//   its own thread (parallel work and its coordination, on cores the apps need), measured with
//   bench/mesh-speed.ts; Linkerd's proxy also runs on one core by default.
// - --max-semi-space-size=4 (MB): the young generation stops at 8-12 MB instead of growing to
//   32 MB under load: 20 MB less RSS per sidecar, with GC pauses shorter, not longer.
export const SIDECAR_NODE_FLAGS: readonly string[] = ["--single-threaded", "--max-semi-space-size=4"];
