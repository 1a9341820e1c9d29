// Where a traced sidecar pair's CPU goes, from perf (issue #8): one pair at a fixed 1000 requests per
// second with every request traced, both sidecars sampled by `perf record` after a warm-up, and
// each sample counted as telemetry when its stack holds a frame of the telemetry bundle chunk
// (assemble-*.mjs: the request hooks, the span processor and the OpenTelemetry SDK code only they
// load). Prints telemetry's share of the pair's samples, its cost per request per sidecar, and the
// functions it spends them in.
//
// Why not bench/tracing-cost.ts for a change to tracing code: that one compares the pair's CPU with
// tracing on and off, and the machine's own swings move single rounds by tens of percent, so a
// change of a fifth of tracing's cost does not show. Here both sides of the comparison are in the
// same samples. perf's own sampling makes the pair slower as a whole (about 1.7x at 999 Hz with
// call graphs), so the share understates the cost without perf; compare runs of this bench with
// each other. perf counts only time a process runs (V8's own profiler samples by wall clock and
// charged a sidecar for time it spent preempted).
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
import { sleep, startChild, startSeamPair } from "./seam-pair";

const seconds = Number(process.argv[2] ?? 18);
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
const VIP = "10.96.9.8";
cp.pushServices([{ name: "app", virtual_ip: VIP, ports: [{ name: "p", port: 80, protocol: "http" }] }], "1");
cp.pushRaw({
  type_url: "weft.v1.Telemetry",
  version_info: "t1",
  resources: [
    {
      name: "default",
      telemetry: {
        name: "default",
        version: "1",
        spec: {
          tracing: { enabled: true, sampling_ratio: 1 },
          logging: { level: "info", access_log: logs, sampling_ratio: 1 },
        },
      },
    },
  ],
});
const apps = await startChild(["--import", "tsx", join(import.meta.dirname, "sidecar-apps.ts")]);
const appPort = (JSON.parse(apps.line) as { h1: number }).h1;
const bundle = await bundleSeamSidecar(dir);
// Names for JIT code in /tmp/perf-PID.map; a node flag, not a V8 heap flag, so the code cache stays.
process.env.WEFT_BENCH_NODE_FLAGS = `${process.env.WEFT_BENCH_NODE_FLAGS ?? ""} --perf-basic-prof`;
const pair = await startSeamPair({ cp, name: "tprof", appPort, vip: VIP, stderr: "ignore", bundle });
pids.push(pair.client.pid as number, pair.server.pid as number);
await sleep(1500); // telemetry loads a second after start
const load = (secs: number) => h2load({ port: pair.port, connections: 16, rate: RATE, seconds: secs });
console.error(`tracing-profile: warming up for ${WARMUP_S} s`);
await load(WARMUP_S);
const data = join(dir, "perf.data");
const run = load(seconds + 2);
await sleep(1000);
console.error(`tracing-profile: sampling both sidecars for ${seconds} s`);
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
const { done } = await run;
const script = await perf(["script", "-i", data]);
pair.stop();

/** Stacks, leaf first, as perf script prints them (one frame per indented line, a blank line after each). */
function stacks(text: string): string[][] {
  const out: string[][] = [];
  let cur: string[] | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (cur?.length) out.push(cur);
      cur = undefined;
    } else if (line.startsWith("\t") || line.startsWith(" ")) {
      // "ADDR SYMBOL+OFF (DSO)": keep the symbol.
      const sym = line
        .trim()
        .replace(/^[0-9a-f]+ /, "")
        .replace(/\+0x[0-9a-f]+/, "")
        .replace(/ \(\S+\)$/, "");
      cur?.push(sym);
    } else cur = [];
  }
  if (cur?.length) out.push(cur);
  return out;
}

const all = stacks(script.stdout);
const TELEMETRY = /assemble-[A-Z0-9]+\.mjs/;
const traced = all.filter((s) => s.some((f) => TELEMETRY.test(f)));
const name = (f: string) => f.replace(/file:\/\/\/\S*\/(\S+\.mjs)/, "$1").slice(0, 90);
const leaves = new Map<string, number>();
for (const s of traced) leaves.set(name(s[0] ?? "?"), (leaves.get(name(s[0] ?? "?")) ?? 0) + 1);
const inTelemetry = new Map<string, number>();
for (const s of traced) {
  // The innermost telemetry-chunk function on the stack: where its time went, by our code's names.
  const f = s.find((x) => TELEMETRY.test(x));
  if (f) inTelemetry.set(name(f), (inTelemetry.get(name(f)) ?? 0) + 1);
}
const perRequestUs = (traced.length / HZ / (done * (seconds / (seconds + 2)) * 2)) * 1e6;
console.log(
  `\ntracing profile at ${RATE} req/s, every request traced${logs ? " and access-logged" : ""}: both sidecars sampled by perf at ${HZ} Hz for ${seconds} s after ${WARMUP_S} s of warm-up (2 cores)`,
);
if (all.length === 0) {
  console.log(`perf recorded nothing: ${record.stderr.trim()}`);
  process.exit(1);
}
console.log(
  `samples: ${all.length}; with a telemetry frame: ${traced.length} (${((100 * traced.length) / all.length).toFixed(1)}%), about ${perRequestUs.toFixed(1)} us per request per sidecar under perf`,
);
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${String(v).padStart(7)}  ${k}`)
    .join("\n");
console.log(`\ntelemetry samples by the innermost telemetry function on the stack:\n${top(inTelemetry, 15)}`);
console.log(`\ntelemetry samples by the function running (leaf):\n${top(leaves, 15)}`);
process.exit(0);

function perf(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile("perf", args, { maxBuffer: 1 << 30 }, (_err, stdout, stderr) => resolve({ stdout, stderr })),
  );
}
