// Where a sidecar's main thread spends its time per proxied request (issues #7 and #8): one pair at
// a fixed 1000 requests per second (h2load --h1 --rps, 16 connections spread one request per ms,
// 1 KiB answers), every request traced and access-logged unless --no-telemetry, and both
// sidecars' main threads sampled by V8's CPU profiler through their admin endpoint
// (POST /cpu_profile) for a window after a warm-up. Prints µs per request by part (the proxy's
// code, the telemetry chunk, node's own JS, garbage collection, native code and system calls
// "(program)") and by function, self time.
//
// V8's profiler samples the thread by wall clock, so time a sidecar spent preempted counts under
// what it was doing: nothing is pinned and the machine wants a core to spare (the load is about
// two thirds of one). bench/tracing-profile.ts counts with perf what runs on a core, kernel
// included; bench/ab-pair.ts gives whole-process CPU ratios.
// Usage: node --import tsx bench/cpu-profile.ts [SECONDS sampled, 10] [--no-telemetry];
// PROFILE_TOP=N lists N functions (20), PROFILE_SAVE=DIR keeps both .cpuprofile files there (open
// them in Chrome DevTools' Performance tab or speedscope).
import type { CpuProfile } from "../sidecar/src/admin/profiles";
import { profilePair, PROFILE_RATE as RATE, PROFILE_WARMUP_S as WARMUP_S } from "./profile-pair";

const args = process.argv.slice(2);
const telemetry = !args.includes("--no-telemetry");
const seconds = Number(args.find((a) => !a.startsWith("--")) ?? 10);
if (!(seconds > 0 && seconds <= 120)) {
  console.error("usage: node --import tsx bench/cpu-profile.ts [SECONDS sampled, 1-120] [--no-telemetry]");
  process.exit(2);
}
const { client, server, requests } = await profilePair<CpuProfile>({
  label: "cpu-profile",
  kind: "cpu",
  seconds,
  telemetry,
  ext: "cpuprofile",
  ...(process.env.PROFILE_SAVE ? { saveDir: process.env.PROFILE_SAVE } : {}),
});

/** The part of the sidecar a profile node's code belongs to. */
function part(url: string, name: string): string {
  if (url === "") {
    if (name === "(garbage collector)" || name === "(idle)" || name === "(program)") return name;
    return "native (builtins, bindings)";
  }
  if (url.startsWith("node:")) return "node's JS (net, streams, timers)";
  if (/assemble-[^/]*\.mjs$/.test(url)) return "telemetry chunk (spans, access log, OpenTelemetry SDK)";
  if (/\.mjs$/.test(url)) return "sidecar's other code (proxy, config)";
  return "other";
}

console.log(
  `\nmain-thread time per request at ${RATE} req/s, ${telemetry ? "every request traced and access-logged" : "telemetry off"}: V8's CPU profiler (a sample every 250 µs of wall clock) in each sidecar for ${seconds} s after ${WARMUP_S} s of warm-up; about ${Math.round(requests)} requests in the window`,
);
for (const [name, profile] of [
  ["client sidecar", client],
  ["server sidecar", server],
] as const) {
  // Each sample's time is the delta to the next; the last sample has none.
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length - 1; i++) {
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const byPart = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const n of profile.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (us === 0) continue;
    const f = n.callFrame;
    const p = part(f.url, f.functionName);
    byPart.set(p, (byPart.get(p) ?? 0) + us);
    if (p === "(idle)") continue;
    const where = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\//, "")}${f.url ? `:${f.lineNumber + 1}` : ""}`;
    byFunction.set(where, (byFunction.get(where) ?? 0) + us);
  }
  const busy = [...byPart].filter(([p]) => p !== "(idle)").reduce((s, [, us]) => s + us, 0);
  console.log(
    `\n${name}: busy ${(busy / 1000).toFixed(0)} ms of ${((profile.endTime - profile.startTime) / 1000).toFixed(0)}, about ${(busy / requests).toFixed(1)} µs per request`,
  );
  for (const [p, us] of [...byPart].sort((a, b) => b[1] - a[1]))
    if (p !== "(idle)") console.log(`${(us / requests).toFixed(1).padStart(8)} µs/req  ${p}`);
  console.log("  by function (self):");
  for (const [where, us] of [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(process.env.PROFILE_TOP ?? 20))) {
    console.log(`${(us / requests).toFixed(1).padStart(8)} µs/req  ${where}`);
  }
}
process.exit(0);
