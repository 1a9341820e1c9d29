// Where tracing's CPU goes, from perf (issue #8): two sidecar pairs at a fixed 1000 requests per
// second each, side by side in the same window, one with every request traced (and access-logged
// with --logs), the other with telemetry turned off by config; all four sidecars sampled by
// `perf record` after a warm-up. A sample counts as telemetry when its stack holds a frame of the
// telemetry bundle chunk (assemble-*.mjs: the request hooks, the span processor and the
// OpenTelemetry SDK code only they load). Prints the two pairs' samples and their ratio, then the
// difference between them by kind (telemetry frames, garbage collection, JIT, kernel, the rest),
// then the functions telemetry's samples are in.
//
// Why the off pair: telemetry frames are not all telemetry costs. Measured this way the frames
// explained about two thirds of the difference; the rest was garbage collection of what tracing
// allocates, system calls and proxy code that got slower (inlining decisions change with the
// extra code). perf's own sampling slows every process alike, which pulls the ratio toward 1:
// bench/ab-pair.ts --telemetry-cost gives the ratio without perf. perf counts only the time a
// process runs (V8's own profiler samples by wall clock and charged a sidecar for time it spent
// preempted).
// Usage: node --import tsx bench/tracing-profile.ts [SECONDS sampled, 18] [--logs]; wants `perf`
// (Debian: linux-perf).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeControlPlane } from "../sidecar/src/testing/wire-fake-control-plane";
import { bundleSeamSidecar } from "./mesh-bundle";
import { h2load } from "./mesh-load";
import { killStarted, onPath } from "./mesh-procs";
import {
  pushPairEndpoints,
  pushTelemetry,
  type SeamPair,
  sleep,
  startChild,
  startSeamPair,
} from "./seam-pair";

const seconds = Number(process.argv.slice(2).find((a) => !a.startsWith("--")) ?? 18);
const logs = process.argv.includes("--logs");
const RATE = 1000;
const HZ = 999;
const WARMUP_S = 40;
if (!onPath("perf")) {
  console.error("tracing-profile: needs perf on PATH (apt-get install linux-perf)");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "wt-bench-tprof-"));
const pids: number[] = [];
process.on("exit", () => {
  killStarted();
  rmSync(dir, { recursive: true, force: true });
  // --perf-basic-prof leaves /tmp/perf-PID.map behind.
  for (const pid of pids) rmSync(`/tmp/perf-${pid}.map`, { force: true });
});

const cp = await startFakeControlPlane();
const services = [
  { name: "traced", virtual_ip: "10.96.9.8", ports: [{ name: "p", port: 80, protocol: "http" }] },
  { name: "untraced", virtual_ip: "10.96.9.9", ports: [{ name: "p", port: 80, protocol: "http" }] },
];
cp.pushServices(services, "1");
// "default" for the traced pair; the other pair's workloads have their own config, all off (a
// sidecar's telemetry config is its service's, else "default").
const OFF = { tracing: false, accessLog: false };
pushTelemetry(cp, { default: { tracing: true, accessLog: logs }, "off-server": OFF, "off-client": OFF }, 1);
const apps = await startChild(["--import", "tsx", join(import.meta.dirname, "sidecar-apps.ts")]);
const appPort = (JSON.parse(apps.line) as { h1: number }).h1;
const bundle = await bundleSeamSidecar(dir);
// Names for JIT code in /tmp/perf-PID.map; a node flag, not a V8 heap flag, so the code cache stays.
process.env.WEFT_BENCH_NODE_FLAGS = `${process.env.WEFT_BENCH_NODE_FLAGS ?? ""} --perf-basic-prof`;
const start = (name: string, i: number) => {
  const s = services[i] as (typeof services)[number];
  return startSeamPair({ cp, name, appPort, vip: s.virtual_ip, service: s.name, stderr: "ignore", bundle });
};
const on = await start("on", 0);
const off = await start("off", 1);
pushPairEndpoints(
  cp,
  [
    { id: "on", service: "traced", pair: on },
    { id: "off", service: "untraced", pair: off },
  ],
  "2",
);
const pidsOf = (p: SeamPair) => [p.client.pid as number, p.server.pid as number];
pids.push(...pidsOf(on), ...pidsOf(off));
await sleep(500); // the endpoints just pushed land
const load = (secs: number) =>
  Promise.all([on, off].map((p) => h2load({ port: p.port, connections: 16, rate: RATE, seconds: secs })));
console.error(`tracing-profile: warming up both pairs for ${WARMUP_S} s`);
await load(WARMUP_S);
const data = join(dir, "perf.data");
const run = load(seconds + 2);
await sleep(1000);
console.error(`tracing-profile: sampling all four sidecars for ${seconds} s`);
const record = await perf([
  "record",
  "-F",
  String(HZ),
  "-g",
  "-p",
  pids.join(","),
  "-o",
  data,
  "--",
  "sleep",
  String(seconds),
]);
const [doneOn] = (await run).map((r) => r.done);
const script = await perf(["script", "-i", data, "-F", "pid,ip,sym,dso"]);
on.stop();
off.stop();

/** Stacks, leaf first, with the process they were sampled in (perf script: a "PID" line, padded
 * with spaces when the pid is short, one indented line per frame, a blank line after each sample). */
function stacks(text: string): Array<{ pid: number; frames: string[] }> {
  const out: Array<{ pid: number; frames: string[] }> = [];
  let cur: { pid: number; frames: string[] } | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (cur?.frames.length) out.push(cur);
      cur = undefined;
    } else if (!/^\s*\d+\s*$/.test(line)) {
      // "ADDR SYMBOL+OFF (DSO)": keep the symbol and the DSO.
      cur?.frames.push(
        line
          .trim()
          .replace(/^[0-9a-f]+ /, "")
          .replace(/\+0x[0-9a-f]+/, ""),
      );
    } else cur = { pid: Number(line.trim().split(/\s+/)[0]), frames: [] };
  }
  if (cur?.frames.length) out.push(cur);
  return out;
}

const TELEMETRY = /assemble-[A-Z0-9]+\.mjs/;
const KINDS: Array<[string, (frames: string[]) => boolean]> = [
  ["telemetry frames", (f) => f.some((x) => TELEMETRY.test(x))],
  [
    "garbage collection",
    (f) => f.some((x) => /Scaveng|MarkCompact|Heap::|Sweeper|ConcurrentMarking|MinorMC/.test(x)),
  ],
  ["JIT compilation", (f) => f.some((x) => /compiler::|Maglev|OptimizedCompilationJob|Compiler::/.test(x))],
  ["kernel", (f) => /\[kernel/.test(f[0] ?? "")],
  ["the rest (proxy, node, V8)", () => true],
];
const all = stacks(script.stdout);
const onPids = pidsOf(on);
const counts = { on: new Map<string, number>(), off: new Map<string, number>() };
const traced: string[][] = [];
for (const s of all) {
  const side = onPids.includes(s.pid) ? "on" : "off";
  const kind = (KINDS.find(([, is]) => is(s.frames)) as [string, unknown])[0];
  counts[side].set(kind, (counts[side].get(kind) ?? 0) + 1);
  if (side === "on" && kind === "telemetry frames") traced.push(s.frames);
}
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const [nOn, nOff] = [total(counts.on), total(counts.off)];
console.log(
  `\ntracing profile at ${RATE} req/s per pair: one pair with every request traced${logs ? " and access-logged" : ""}, one with telemetry off, side by side; all four sidecars sampled by perf at ${HZ} Hz for ${seconds} s after ${WARMUP_S} s of warm-up (2 cores)`,
);
if (all.length === 0 || nOff === 0) {
  console.log(
    `perf recorded nothing: ${record.stderr.trim()}\nperf script: ${script.stderr.trim().slice(0, 2000)}`,
  );
  process.exit(1);
}
const perRequestUs = (n: number) => (n / HZ / ((doneOn ?? 1) * (seconds / (seconds + 2)) * 2)) * 1e6;
console.log(
  `samples: traced pair ${nOn}, untraced pair ${nOff}: ${(nOn / nOff).toFixed(3)}x (perf's own cost pulls this toward 1)`,
);
console.log(`\nthe difference, ${nOn - nOff} samples, by kind (traced - untraced):`);
for (const [kind] of KINDS) {
  const d = (counts.on.get(kind) ?? 0) - (counts.off.get(kind) ?? 0);
  console.log(
    `${String(d).padStart(7)}  ${kind.padEnd(28)}${`(${counts.on.get(kind) ?? 0} - ${counts.off.get(kind) ?? 0})`.padStart(16)}  about ${perRequestUs(d).toFixed(1)} us per request per sidecar under perf`,
  );
}
const name = (f: string) =>
  f
    .replace(/ \(\S+\)$/, "")
    .replace(/file:\/\/\/\S*\/(\S+\.mjs)/, "$1")
    .slice(0, 90);
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${String(v).padStart(7)}  ${k}`)
    .join("\n");
const inTelemetry = new Map<string, number>();
const leaves = new Map<string, number>();
for (const s of traced) {
  // The innermost telemetry-chunk function on the stack: where its time went, by our code's names.
  const f = s.find((x) => TELEMETRY.test(x));
  if (f) inTelemetry.set(name(f), (inTelemetry.get(name(f)) ?? 0) + 1);
  leaves.set(name(s[0] ?? "?"), (leaves.get(name(s[0] ?? "?")) ?? 0) + 1);
}
console.log(`\ntelemetry frames by the innermost telemetry function on the stack:\n${top(inTelemetry, 15)}`);
console.log(`\ntelemetry frames by the function running (leaf):\n${top(leaves, 15)}`);
/** Outside telemetry frames, samples by where they ran: +1 traced, -1 untraced. */
const elsewhere = new Map<string, number>();
for (const s of all) {
  if (KINDS[0]?.[1](s.frames)) continue;
  const at = placeOf(s.frames);
  elsewhere.set(at, (elsewhere.get(at) ?? 0) + (onPids.includes(s.pid) ? 1 : -1));
}
console.log(
  `\noutside telemetry frames, traced - untraced by the function running (kernel samples: the kernel function under the first user-space frame):\n${top(elsewhere, 25)}`,
);
process.exit(0);

/** Where a sample outside telemetry ran: its leaf function, without V8's tier mark (the two pairs'
 * code need not be at the same tier); for a kernel sample, the system call path it came in by. */
function placeOf(frames: string[]): string {
  const strip = (f: string) => name(f).replace(/^JS:[*^~+]/, "JS:");
  if (!/\[kernel/.test(frames[0] ?? "")) return strip(frames[0] ?? "?");
  const user = frames.findIndex((f) => !/\[kernel/.test(f));
  const entry = user > 0 ? frames[user - 1] : frames[frames.length - 1];
  const caller = user > 0 ? frames[user] : undefined;
  return `[k] ${strip(entry ?? "?")} <- ${caller ? strip(caller) : "?"}`;
}

function perf(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile("perf", args, { maxBuffer: 1 << 30 }, (err, stdout, stderr) =>
      resolve({ stdout, stderr: `${stderr}${err && !stderr ? String(err) : ""}` }),
    ),
  );
}
