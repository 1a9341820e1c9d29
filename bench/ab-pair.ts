// The sidecar's CPU per request, this working tree against a git revision, measured at the same
// time: two sidecar pairs, one per build, each carrying its own fixed 1000 requests per second
// (h2load --h1 --rps, 16 connections, 1 KiB answers) for the same windows, so whatever the machine
// does to one it does to the other. On this 2-core machine CPU per request swings by tens of percent
// from one minute to the next, and a comparison of runs taken apart (bench/tracing-cost.ts) could
// not tell a 20% change in tracing's cost from noise; a ratio taken within one window can.
// The run has two phases with the pairs' positions swapped (which starts first, which service and
// address each gets), since position alone moved the ratio by a few percent. Prints each window's
// ratio (this tree / the revision) and the median per phase and overall.
// Usage: node --import tsx bench/ab-pair.ts REV [WINDOWS per phase, 8] [SECONDS per window, 10] [--no-telemetry]
// REV must have bench/mesh-bundle.ts (55bf80e or later). Telemetry as in production: every request
// traced and access-logged.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeControlPlane } from "../sidecar/src/testing/wire-fake-control-plane";
import { bundleSeamSidecar } from "./mesh-bundle";
import { h2load } from "./mesh-load";
import { killStarted, rssMb } from "./mesh-procs";
import { type SeamPair, sleep, startChild, startSeamPair } from "./seam-pair";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const rev = args[0];
if (!rev) {
  console.error("usage: node --import tsx bench/ab-pair.ts REV [WINDOWS] [SECONDS] [--no-telemetry]");
  process.exit(2);
}
const windows = Number(args[1] ?? 8);
const seconds = Number(args[2] ?? 10);
const telemetry = !process.argv.includes("--no-telemetry");
const RATE = 1000;
const WARMUP_S = 40;
const root = join(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "wt-bench-ab-"));
const tree = join(dir, "rev");
process.on("exit", () => {
  killStarted();
  try {
    execFileSync("git", ["-C", root, "worktree", "remove", "--force", tree], { stdio: "ignore" });
  } catch {}
  rmSync(dir, { recursive: true, force: true });
});

execFileSync("git", ["-C", root, "worktree", "add", "--detach", tree, rev], { stdio: "ignore" });
symlinkSync(join(root, "node_modules"), join(tree, "node_modules"));
const revLabel = execFileSync("git", ["-C", tree, "rev-parse", "--short", "HEAD"], {
  encoding: "utf8",
}).trim();
const revBundler = (await import(join(tree, "bench", "mesh-bundle.ts"))) as {
  bundleSeamSidecar: (d: string) => Promise<string>;
};
const builds = {
  tree: await bundleSeamSidecar(join(dir, "tree")),
  rev: await revBundler.bundleSeamSidecar(join(dir, "rev-bundle")),
};

const cp = await startFakeControlPlane();
const services = [
  { name: "app", virtual_ip: "10.96.9.8", ports: [{ name: "p", port: 80, protocol: "http" }] },
  { name: "app2", virtual_ip: "10.96.9.9", ports: [{ name: "p", port: 80, protocol: "http" }] },
];
cp.pushServices(services, "1");
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
          tracing: { enabled: telemetry, sampling_ratio: 1 },
          logging: { level: "info", access_log: telemetry, sampling_ratio: 1 },
        },
      },
    },
  ],
});
const apps = await startChild(["--import", "tsx", join(import.meta.dirname, "sidecar-apps.ts")]);
const appPort = (JSON.parse(apps.line) as { h1: number }).h1;

console.log(
  `\nsidecar pair CPU per 1000 requests: this tree against ${rev} (${revLabel}), two pairs at ${RATE} req/s each in the same windows of ${seconds} s, after ${WARMUP_S} s of warm-up; telemetry ${telemetry ? "on (every request traced and access-logged)" : "off"} (2 cores)`,
);
const ratios: number[] = [];
for (const phase of [0, 1]) {
  // Phase 0: the revision's pair first (service app); phase 1: this tree's first.
  const order = phase === 0 ? (["rev", "tree"] as const) : (["tree", "rev"] as const);
  const pairs = {} as Record<"tree" | "rev", SeamPair>;
  for (const [i, which] of order.entries()) {
    const s = services[i] as (typeof services)[number];
    pairs[which] = await startSeamPair({
      cp,
      name: `ab${phase}${i}`,
      appPort,
      vip: s.virtual_ip,
      service: s.name,
      stderr: "ignore",
      bundle: builds[which],
    });
  }
  // Each pair pushed its own service's endpoints; the second push replaced the first's list.
  const endpoint = (i: number, pair: SeamPair) => ({
    id: `ab${phase}${i}`,
    service: services[i]?.name as string,
    address: "127.0.0.1",
    ports: [{ name: "p", port: pair.serverPorts.inbound as number }],
    healthy: true,
  });
  cp.pushEndpoints(
    {
      app: [endpoint(0, pairs[order[0]])],
      app2: [endpoint(1, pairs[order[1]])],
    },
    `ab${phase}`,
  );
  await sleep(1500); // telemetry loads a second after start
  const both = (secs: number) =>
    Promise.all(
      (["tree", "rev"] as const).map((w) =>
        h2load({ port: pairs[w].port, connections: 16, rate: RATE, seconds: secs }),
      ),
    );
  console.error(`ab-pair: phase ${phase + 1} of 2, warming up for ${WARMUP_S} s`);
  await both(WARMUP_S);
  const phaseRatios: number[] = [];
  console.log(`\nphase ${phase + 1}: ${order[0] === "rev" ? revLabel : "this tree"} started first`);
  console.log(
    `${"window".padEnd(8)}${"this tree".padStart(12)}${revLabel.padStart(12)}${"ratio".padStart(9)}`,
  );
  for (let w = 0; w < windows; w++) {
    const before = { tree: pairs.tree.cpuMs(), rev: pairs.rev.cpuMs() };
    const [t, r] = await both(seconds);
    if (!t || !r || t.non2xx + t.failed > 0 || r.non2xx + r.failed > 0) {
      console.error(`ab-pair: failed requests in window ${w + 1}: ${JSON.stringify({ t, r })}`);
      process.exit(1);
    }
    const perTree = ((pairs.tree.cpuMs() - before.tree) / t.done) * 1000;
    const perRev = ((pairs.rev.cpuMs() - before.rev) / r.done) * 1000;
    phaseRatios.push(perTree / perRev);
    console.log(
      `${String(w + 1).padEnd(8)}${perTree.toFixed(1).padStart(12)}${perRev.toFixed(1).padStart(12)}${(perTree / perRev).toFixed(3).padStart(9)}`,
    );
  }
  const rss = (p: SeamPair) =>
    `${rssMb(p.client.pid as number).toFixed(1)} / ${rssMb(p.server.pid as number).toFixed(1)}`;
  console.log(
    `median ${median(phaseRatios).toFixed(3)}; RSS MB (client / server sidecar): this tree ${rss(pairs.tree)}, ${revLabel} ${rss(pairs.rev)}`,
  );
  ratios.push(...phaseRatios);
  pairs.tree.stop();
  pairs.rev.stop();
}
console.log(
  `\nCPU per request, this tree / ${revLabel}: median ${median(ratios).toFixed(3)} over ${ratios.length} windows (CPU ms per 1000 requests, both sidecars of a pair)`,
);
process.exit(0);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
