// Two sidecar pairs measured at the same time, each carrying its own fixed 1000 requests per second
// (h2load --h1 --rps, 16 connections, 1 KiB answers) in the same windows, so whatever the machine
// does to one it does to the other. On this 2-core machine CPU per request swings by tens of percent
// from one minute to the next, and comparisons of runs taken apart (bench/tracing-cost.ts) could not
// tell a 20% change from noise; a ratio taken within one window can. Two comparisons:
//   REV               this working tree's sidecar against revision REV's (both with telemetry as in
//                     production: every request traced and access-logged; --no-telemetry: off);
//   --telemetry-cost  this tree's sidecar with telemetry on (every request traced and access-logged)
//                     against the same build with tracing and access logs turned off by config;
//   --tracing-cost    the same with access logs on for both sides, so only tracing differs (issue
//                     #8's goal: tracing at 100% sampling against tracing off);
//   --mtls-cost       this tree's sidecars speaking mutual TLS to each other (certificates from a
//                     real control plane's CA, started here) against the same in plain text, both
//                     with telemetry as in production.
// The run has two phases with the pairs' positions swapped (which starts first, which service and
// address each gets), since position alone moved the ratio by a few percent. Prints each window's
// CPU per 1000 requests (both sidecars of a pair), the ratio, and each pair's p99; then the medians.
// p99 here is under both pairs' load (2000 req/s on the machine), higher than a lone pair's.
// Usage: node --import tsx bench/ab-pair.ts (REV | --telemetry-cost | --tracing-cost | --mtls-cost) [WINDOWS per phase, 8]
//   [SECONDS per window, 10] [--no-telemetry] [--tcp]. --tcp declares the service opaque TCP, so both
//   sidecars pipe the requests as bytes (no spans or access lines per request then). REV must have
//   bench/mesh-bundle.ts (55bf80e or later).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlPlane } from "../control-plane/src/server";
import { startFakeControlPlane } from "../sidecar/src/testing/wire-fake-control-plane";
import { bundleSeamSidecar } from "./mesh-bundle";
import { h2load, latenciesMs, percentile } from "./mesh-load";
import { killStarted, rssMb } from "./mesh-procs";
import {
  pushPairEndpoints,
  pushTelemetry,
  type SeamPair,
  sleep,
  startChild,
  startSeamPair,
  type TelemetryOn,
} from "./seam-pair";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const tracingOnly = process.argv.includes("--tracing-cost");
const telemetryCost = tracingOnly || process.argv.includes("--telemetry-cost");
const mtlsCost = process.argv.includes("--mtls-cost");
const rev = telemetryCost || mtlsCost ? undefined : args.shift();
if (!telemetryCost && !mtlsCost && !rev) {
  console.error(
    "usage: node --import tsx bench/ab-pair.ts (REV | --telemetry-cost | --tracing-cost | --mtls-cost) [WINDOWS] [SECONDS] [--no-telemetry] [--tcp]",
  );
  process.exit(2);
}
const windows = Number(args[0] ?? 8);
const seconds = Number(args[1] ?? 10);
const telemetry = !process.argv.includes("--no-telemetry");
/** Both sidecars pipe the service as opaque TCP (the HTTP requests pass as bytes). */
const tcp = process.argv.includes("--tcp");
const RATE = 1000;
const WARMUP_S = 40;
const root = join(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "wt-bench-ab-"));
const tree = join(dir, "rev");
process.on("exit", () => {
  killStarted();
  if (rev) {
    try {
      execFileSync("git", ["-C", root, "worktree", "remove", "--force", tree], { stdio: "ignore" });
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The two sides: A is what is being judged, B what it is judged against. */
interface Side {
  label: string;
  bundle: string;
  /** Tracing and access logs on for this side's workloads (off: both off, or with --tracing-cost
   * tracing only). */
  telemetry: boolean;
  /** Its pair speaks mutual TLS (--mtls-cost). */
  mtls?: boolean;
}
const thisTree = await bundleSeamSidecar(join(dir, "tree"));
let sides: [Side, Side];
if (rev) {
  execFileSync("git", ["-C", root, "worktree", "add", "--detach", tree, rev], { stdio: "ignore" });
  symlinkSync(join(root, "node_modules"), join(tree, "node_modules"));
  const revLabel = execFileSync("git", ["-C", tree, "rev-parse", "--short", "HEAD"], {
    encoding: "utf8",
  }).trim();
  const revBundler = (await import(join(tree, "bench", "mesh-bundle.ts"))) as {
    bundleSeamSidecar: (d: string) => Promise<string>;
  };
  sides = [
    { label: "this tree", bundle: thisTree, telemetry },
    { label: revLabel, bundle: await revBundler.bundleSeamSidecar(join(dir, "rev-bundle")), telemetry },
  ];
} else if (mtlsCost) {
  sides = [
    { label: "mtls", bundle: thisTree, telemetry, mtls: true },
    { label: "plain", bundle: thisTree, telemetry },
  ];
} else {
  sides = [
    { label: tracingOnly ? "tracing on" : "telemetry on", bundle: thisTree, telemetry: true },
    { label: tracingOnly ? "tracing off" : "off", bundle: thisTree, telemetry: false },
  ];
}

const cp = await startFakeControlPlane();
// The stand-in pushes config; certificates come from a real control plane's CA.
const ca = mtlsCost
  ? await startControlPlane({
      dataDir: join(dir, "ca"),
      grpcPort: 0,
      httpPort: 0,
      grpcSocket: "",
      log: () => {},
    })
  : undefined;
const services = [
  { name: "app", virtual_ip: "10.96.9.8", ports: [{ name: "p", port: 80, protocol: tcp ? "tcp" : "http" }] },
  { name: "app2", virtual_ip: "10.96.9.9", ports: [{ name: "p", port: 80, protocol: tcp ? "tcp" : "http" }] },
];
cp.pushServices(services, "1");
let telemetryVersion = 0;
/** "default" for both sides; a side with telemetry off gets its own config under its workloads'
 * names (a sidecar's telemetry config is its service's, else "default"). */
function pushConfigs(offWorkloads: string[]): void {
  const configs: Record<string, TelemetryOn> = { default: { tracing: true, accessLog: true } };
  for (const w of offWorkloads) configs[w] = { tracing: false, accessLog: tracingOnly };
  pushTelemetry(cp, configs, ++telemetryVersion);
}
const apps = await startChild(["--import", "tsx", join(import.meta.dirname, "sidecar-apps.ts")]);
const appPort = (JSON.parse(apps.line) as { h1: number }).h1;

const [A, B] = sides;
console.log(
  `\nsidecar pair CPU per 1000 requests: ${A.label} against ${B.label}${rev ? ` (${rev})` : ""}, two pairs at ${RATE} req/s each in the same windows of ${seconds} s, after ${WARMUP_S} s of warm-up${rev || mtlsCost ? `; telemetry ${telemetry ? "on (every request traced and access-logged)" : "off"}` : ""} (2 cores)`,
);
const ratios: number[] = [];
const p99s: Array<[number, number]> = [];
for (const phase of [0, 1]) {
  // Phase 0: B's pair first (service app); phase 1: A's first.
  const order = phase === 0 ? [1, 0] : [0, 1];
  const names = order.map((_, i) => `ab${phase}${i}`);
  pushConfigs(
    order.flatMap((side, i) => (sides[side]?.telemetry ? [] : [`${names[i]}-server`, `${names[i]}-client`])),
  );
  const pairs: SeamPair[] = [];
  for (const [i, side] of order.entries()) {
    const s = services[i] as (typeof services)[number];
    pairs[side] = await startSeamPair({
      cp,
      name: names[i] as string,
      appPort,
      vip: s.virtual_ip,
      service: s.name,
      stderr: "ignore",
      bundle: (sides[side] as Side).bundle,
      ...(ca && sides[side]?.mtls ? { certificateAuthority: ca.grpcAddress } : {}),
      ...(tcp ? { protocol: "tcp" as const } : {}),
    });
  }
  pushPairEndpoints(
    cp,
    order.map((side, i) => ({
      id: names[i] as string,
      service: services[i]?.name as string,
      pair: pairs[side] as SeamPair,
    })),
    `ab${phase}`,
  );
  await sleep(500); // the endpoints just pushed land
  const both = (secs: number, log?: string) =>
    Promise.all(
      pairs.map((p, side) =>
        h2load({
          port: p.port,
          connections: 16,
          rate: RATE,
          seconds: secs,
          ...(log ? { log: `${log}-${side}` } : {}),
        }),
      ),
    );
  console.error(`ab-pair: phase ${phase + 1} of 2, warming up for ${WARMUP_S} s`);
  await both(WARMUP_S);
  const phaseRatios: number[] = [];
  console.log(`\nphase ${phase + 1}: ${(sides[order[0] as number] as Side).label} started first`);
  console.log(
    `${"window".padEnd(8)}${A.label.padStart(14)}${B.label.padStart(14)}${"ratio".padStart(8)}${`p99 ms ${A.label}`.padStart(22)}${`p99 ms ${B.label}`.padStart(20)}`,
  );
  for (let w = 0; w < windows; w++) {
    const before = pairs.map((p) => p.cpuMs());
    const log = join(dir, `p${phase}w${w}`);
    const runs = await both(seconds, log);
    if (runs.some((r) => r.non2xx + r.failed > 0)) {
      console.error(`ab-pair: failed requests in window ${w + 1}: ${JSON.stringify(runs)}`);
      process.exit(1);
    }
    const per = pairs.map(
      (p, side) => ((p.cpuMs() - (before[side] as number)) / (runs[side]?.done ?? 1)) * 1000,
    );
    const p99 = pairs.map((_, side) => percentile(latenciesMs(`${log}-${side}`), 99));
    const [a, b] = per as [number, number];
    phaseRatios.push(a / b);
    p99s.push(p99 as [number, number]);
    console.log(
      `${String(w + 1).padEnd(8)}${a.toFixed(1).padStart(14)}${b.toFixed(1).padStart(14)}${(a / b).toFixed(3).padStart(8)}${(p99[0] as number).toFixed(2).padStart(22)}${(p99[1] as number).toFixed(2).padStart(20)}`,
    );
  }
  const rss = (p: SeamPair) =>
    `${rssMb(p.client.pid as number).toFixed(1)} / ${rssMb(p.server.pid as number).toFixed(1)}`;
  console.log(
    `median ${median(phaseRatios).toFixed(3)}; RSS MB (client / server sidecar): ${A.label} ${rss(pairs[0] as SeamPair)}, ${B.label} ${rss(pairs[1] as SeamPair)}`,
  );
  ratios.push(...phaseRatios);
  for (const p of pairs) p.stop();
}
const p99Diff = median(p99s.map(([a, b]) => a - b));
console.log(
  `\nCPU per request, ${A.label} / ${B.label}: median ${median(ratios).toFixed(3)} over ${ratios.length} windows; p99 ${A.label} minus ${B.label}: median ${p99Diff >= 0 ? "+" : ""}${p99Diff.toFixed(2)} ms`,
);
process.exit(0);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
