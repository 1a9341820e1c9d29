// Bytes a sidecar allocates per proxied request (issue #7): one pair at a fixed 1000 requests per
// second (h2load --h1 --rps, 16 connections, 1 KiB answers), every request traced and access-logged
// unless --no-telemetry, and both sidecars' allocations sampled through their admin endpoint
// (POST /heap_profile, V8's sampling heap profiler keeping what the GC has freed too) for a window
// after a warm-up. Allocation is what sets a sidecar's young-generation collections, so this is the
// number to move for GC cost, and unlike CPU time it barely moves with the machine's load.
// Prints KB per request per sidecar and where it goes (by function, innermost frame).
// Usage: node --import tsx bench/allocation.ts [SECONDS sampled, 10] [--no-telemetry]; ALLOC_TOP=N
// lists N functions (15), ALLOC_SAVE=DIR keeps both profiles there (open them in Chrome DevTools).
import type { HeapProfile, HeapProfileNode } from "../sidecar/src/admin/profiles";
import { profilePair, PROFILE_RATE as RATE, PROFILE_WARMUP_S as WARMUP_S } from "./profile-pair";

const seconds = Number(process.argv[2] ?? 10);
const telemetry = !process.argv.includes("--no-telemetry");
const { client, server, requests } = await profilePair<HeapProfile>({
  label: "allocation",
  kind: "heap",
  seconds,
  telemetry,
  ext: "heapprofile",
  ...(process.env.ALLOC_SAVE ? { saveDir: process.env.ALLOC_SAVE } : {}),
});

console.log(
  `\nallocation per request at ${RATE} req/s, ${telemetry ? "every request traced and access-logged" : "telemetry off"}: V8's sampling heap profiler (every 4 KiB on average, freed objects kept) in each sidecar for ${seconds} s after ${WARMUP_S} s of warm-up; about ${Math.round(requests)} requests in the window`,
);
for (const [name, profile] of [
  ["client sidecar", client],
  ["server sidecar", server],
] as const) {
  const byFunction = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapProfileNode) => {
    if (n.selfSize > 0) {
      const f = n.callFrame;
      const where = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\//, "") || "(native)"}:${f.lineNumber + 1}`;
      byFunction.set(where, (byFunction.get(where) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  console.log(
    `\n${name}: ${(total / 1048576).toFixed(1)} MB sampled, about ${(total / requests / 1024).toFixed(1)} KB per request`,
  );
  for (const [where, bytes] of [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(process.env.ALLOC_TOP ?? 15))) {
    console.log(`${(bytes / requests).toFixed(0).padStart(7)} B/req  ${where}`);
  }
}
process.exit(0);
