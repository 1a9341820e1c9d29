// Entry of dist/sidecar.cjs, the self-contained sidecar bundle the daemon starts in a workload netns.
console.error("weft sidecar: not built yet");
process.exitCode = 1;
