// Usage: node --import tsx bench/tail-probe.ts [SECONDS, 10] [--no-telemetry] [--warm=SECONDS, 5]
//
// Where the Weft pair's p99 at 1000 req/s comes from (issue #7's tail goal). One sidecar pair
// pinned as bench/mesh-speed.ts pins it (upstream and sidecars on CPU 1, h2load and this process on
// CPU 0), one fixed-rate run of SECONDS after a warm-up at the same rate, then:
// - the latency percentiles up to the maximum;
// - when the slowest 1% happened: how many stalls (slow requests less than 20 ms apart) they came
//   in, and how long each lasted; a few long stalls rather than many short delays point at the
//   scheduler or a long task, not at per-request work;
// - each sidecar's event-loop lag (prom-client's, over its life) and V8 heap spaces, from /metrics;
// - with WEFT_BENCH_NODE_FLAGS=--trace-gc, each sidecar's collections during the run by kind.
// What it found is in the notes of issue #7.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeControlPlane } from "../sidecar/src/testing/wire-fake-control-plane";
import { bundleSeamSidecar } from "./mesh-bundle";
import { h2load, percentile } from "./mesh-load";
import { BODY_BYTES, killStarted, startUpstream } from "./mesh-procs";
import { startSeamPair } from "./seam-pair";

const USAGE = "usage: node --import tsx bench/tail-probe.ts [SECONDS] [--no-telemetry] [--warm=SECONDS]";
const args = process.argv.slice(2);
for (const a of args) {
  if (a !== "--no-telemetry" && !/^\d+$/.test(a) && !/^--warm=\d+$/.test(a)) {
    console.error(`tail-probe: unknown option ${a}\n${USAGE}`);
    process.exit(2);
  }
}
const telemetry = !args.includes("--no-telemetry");
const seconds = Number(args.find((a) => /^\d+$/.test(a)) ?? 10);
const warm = Number(args.find((a) => a.startsWith("--warm="))?.slice(7) ?? 5);
const progress = (m: string) => console.error(`tail-probe: ${m}`);
const dir = mkdtempSync(join(tmpdir(), "wt-bench-tail-"));
process.on("exit", () => {
  killStarted();
  rmSync(dir, { recursive: true, force: true });
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

const metrics = (port: number) =>
  new Promise<string>((resolve, reject) =>
    http
      .get({ host: "127.0.0.1", port, path: "/metrics" }, (res) => {
        let b = "";
        res.on("data", (d) => (b += d));
        res.on("end", () => resolve(b));
      })
      .on("error", reject),
  );

// Children inherit this affinity: upstream and sidecars on CPU 1.
execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
const body = join(dir, "body.bin");
writeFileSync(body, Buffer.alloc(BODY_BYTES, "b"));
progress("starting the upstream and the pair");
const upstream = await startUpstream(dir);
const bundle = await bundleSeamSidecar(dir);
const cp = await startFakeControlPlane();
const VIP = "10.96.9.7";
cp.pushServices([{ name: "app", virtual_ip: VIP, ports: [{ name: "p", port: 80, protocol: "http" }] }], "1");
const pair = await startSeamPair({
  cp,
  name: "tail",
  appPort: upstream.port,
  vip: VIP,
  telemetry,
  bundle,
  stderr: "ignore",
});
// Every thread of this process (the stand-in control plane's too) goes to h2load's CPU.
execFileSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)], { stdio: "ignore" });

/** --trace-gc lines with when they arrived here (ms since the epoch): within a few ms of the pause. */
const gcLines: Record<string, Array<[number, string]>> = { client: [], server: [] };
let recording = false;
for (const [name, child] of [
  ["client", pair.client],
  ["server", pair.server],
] as const) {
  child.stdout?.on("data", (d: Buffer) => {
    const now = Date.now();
    if (recording) for (const l of d.toString().split("\n")) if (l) gcLines[name]?.push([now, l]);
  });
}

const load = { port: pair.port, connections: 16, rate: 1000, body, cpu: 0 };
progress(`warming up, ${warm} s`);
await h2load({ ...load, seconds: warm });
progress(`1000 req/s over 16 connections, ${seconds} s (telemetry ${telemetry ? "on" : "off"})`);
const log = join(dir, "latency.log");
recording = true;
await h2load({ ...load, seconds, log });
recording = false;

// h2load's log: start (µs since the epoch), status, µs to the end of the response.
const rows = readFileSync(log, "utf8")
  .trim()
  .split("\n")
  .map((l) => l.split("\t").map(Number))
  .filter((r) => Number.isFinite(r[2]));
const lat = rows.map((r) => (r[2] as number) / 1000).sort((a, b) => a - b);
const p = (q: number) => percentile(lat, q).toFixed(2);
console.log(
  `telemetry ${telemetry ? "on" : "off"}: ${lat.length} requests; ms p50 ${p(50)} p90 ${p(90)} p99 ${p(99)} p99.9 ${p(99.9)} max ${lat.at(-1)?.toFixed(2)}`,
);
const t0 = Math.min(...rows.map((r) => r[0] as number));
const p99 = percentile(lat, 99);
const starts = rows
  .filter((r) => (r[2] as number) / 1000 > p99)
  .map((r) => ((r[0] as number) - t0) / 1000)
  .sort((a, b) => a - b);
const stalls: Array<{ at: number; last: number; n: number }> = [];
for (const s of starts) {
  const c = stalls.at(-1);
  if (c && s - c.last < 20) {
    c.last = s;
    c.n++;
  } else stalls.push({ at: s, last: s, n: 1 });
}
console.log(
  `the ${starts.length} requests slower than p99 started in ${stalls.length} stalls (at ms: requests, ms the stall's requests spread over):`,
);
console.log(`  ${stalls.map((c) => `${c.at.toFixed(0)}: ${c.n}, ${(c.last - c.at).toFixed(0)}`).join("; ")}`);

for (const [name, ports] of [
  ["client", pair.clientPorts],
  ["server", pair.serverPorts],
] as const) {
  const m = await metrics(ports.metrics as number);
  const value = (metric: string) => Number(new RegExp(`^${metric}(?:\\{\\})? (\\S+)$`, "m").exec(m)?.[1]);
  const space = (s: string) =>
    Number(new RegExp(`^nodejs_heap_space_size_total_bytes\\{space="${s}"\\} (\\S+)$`, "m").exec(m)?.[1]) /
    2 ** 20;
  const lag = ["p90", "p99", "max"].map(
    (q) => `${q} ${(value(`nodejs_eventloop_lag_${q}_seconds`) * 1000).toFixed(1)}`,
  );
  console.log(
    `${name} sidecar: event-loop lag ms ${lag.join(" ")}; RSS ${(value("process_resident_memory_bytes") / 2 ** 20).toFixed(1)} MB, heap MB new ${space("new").toFixed(1)} old ${space("old").toFixed(1)} code ${space("code").toFixed(1)}, external ${(value("nodejs_external_memory_bytes") / 2 ** 20).toFixed(1)}`,
  );
  const kinds = new Map<string, { n: number; ms: number; max: number }>();
  const long: string[] = [];
  for (const [at, l] of gcLines[name] ?? []) {
    const ms = Number(/([\d.]+) \/ [\d.]+ ms/.exec(l)?.[1]);
    const kind = /(Scavenge|Mark-Compact|Minor Mark-Sweep)/.exec(l)?.[1];
    if (!kind || !Number.isFinite(ms)) continue;
    const k = kinds.get(kind) ?? { n: 0, ms: 0, max: 0 };
    k.n++;
    k.ms += ms;
    k.max = Math.max(k.max, ms);
    kinds.set(kind, k);
    if (ms >= 2) long.push(`${kind} ${ms.toFixed(1)} ms at about ${(at - t0 / 1000).toFixed(0)}`);
  }
  if (kinds.size > 0)
    console.log(
      `  collections during the run: ${[...kinds].map(([k, v]) => `${k} ${v.n}x, ${v.ms.toFixed(0)} ms, longest ${v.max.toFixed(1)}`).join("; ")}`,
    );
  if (long.length > 0)
    console.log(`  pauses of 2 ms or more (ms into the run, as the stalls): ${long.join("; ")}`);
}
await cp.close();
process.exit(0);
