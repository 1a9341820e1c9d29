// Usage: node --import tsx bench/mesh-speed.ts [--quick] [--json] [--no-telemetry] [--no-pin] [--bursts]
//
// The speed of issue #7, paths doing the same work side by side in one run: direct (h2load →
// upstream), a Weft sidecar pair (h2load → client sidecar outbound → server sidecar inbound →
// upstream, sidecar/src/testing/seam-sidecar.ts processes on 127.0.0.1), an HAProxy pair
// configured the same way (mode http, keep-alive both sides, one thread each, no logging), and a
// node pipe pair (bench/node-pipe.mjs: two Node.js processes that only copy bytes, no HTTP), the
// least any Node.js proxy costs on this machine. One upstream for all: nginx with one worker
// answering 1 KiB (bench/upstream.mjs if missing).
// Measured: req/s at 50 connections; p50/p99 at a fixed 1000 req/s over 16 connections POSTing
// 1 KiB; CPU per 1000 req/s (and the kernel's part of it) and RSS of each proxy during that
// fixed-rate run; next to the goals.
// The sidecars are bundled first (bench/mesh-bundle.ts) and run with plain node, as in production.
// By default h2load runs on CPU 0 and the servers on CPU 1 (taskset), so the load generator does
// not take the proxies' core: each path's servers share one core. The stand-in control plane that
// receives the sidecars' spans and logs (this process) moves to CPU 0 once the servers run. --no-pin
// lets the scheduler place them. --quick shortens every run; --json prints the results as JSON; the
// sidecars run with telemetry as in production unless --no-telemetry. The fixed-rate runs spread the
// 16 connections' requests one per millisecond; --bursts sends them as h2load does by default, 16 in
// the same millisecond every 16 ms (bench/mesh-load.ts says why that measures something else).
// Progress goes to stderr.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeControlPlane } from "../sidecar/src/testing/wire-fake-control-plane";
import { bundleSeamSidecar } from "./mesh-bundle";
import { h2load, latenciesMs, percentile } from "./mesh-load";
import {
  BODY_BYTES,
  cpuMs,
  kernelCpuMs,
  killStarted,
  type Proc,
  rssAnonMb,
  rssMb,
  startHaproxy,
  startNodePipe,
  startUpstream,
} from "./mesh-procs";
import { checkGoals, printReport, RATE, type Report } from "./mesh-report";
import { sleep, startSeamPair } from "./seam-pair";

const USAGE =
  "usage: node --import tsx bench/mesh-speed.ts [--quick] [--json] [--no-telemetry] [--no-pin] [--bursts]";
const flags = new Set(process.argv.slice(2));
for (const f of flags) {
  if (!["--quick", "--json", "--no-telemetry", "--no-pin", "--bursts"].includes(f)) {
    console.error(`mesh-speed: unknown option ${f}\n${USAGE}`);
    process.exit(2);
  }
}
const quick = flags.has("--quick");
const telemetry = !flags.has("--no-telemetry");
const CORES = availableParallelism(); // before pinning narrows what this process sees
const pin = !flags.has("--no-pin") && CORES >= 2;
const bursts = flags.has("--bursts");
// Warm-up before each measured run, the same for every path: a sidecar's JIT reaches its steady speed
// only after a few seconds of load on a shared core (with telemetry on, 1 s of warm-up measured it at
// half its speed), and production sidecars run for hours.
// latency: seconds of each fixed-rate round (ROUNDS per path).
const T = quick ? { warm: 4, throughput: 3, latency: 5 } : { warm: 5, throughput: 10, latency: 10 };
const THROUGHPUT_CONNECTIONS = 50;
/** Fixed-rate rounds per path, taken in turns (see the latency runs). */
const ROUNDS = 3;
const RATE_CONNECTIONS = 16;
const progress = (m: string) => console.error(`mesh-speed: ${m}`);
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

// Exit handlers (here, in mesh-procs.ts and in seam-pair.ts) kill every child: make signals exits.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    progress(`${sig}: stopping every process this bench started`);
    process.exit(130);
  });
}
const dir = mkdtempSync(join(tmpdir(), "wt-bench-mesh-"));
process.on("exit", () => {
  killStarted(); // before removing the dir nginx writes into
  rmSync(dir, { recursive: true, force: true });
});

interface Path {
  name: string;
  port: number;
  /** The proxies on this path, in request order. */
  proxies: Proc[];
}

async function main(): Promise<Report> {
  const loadBefore = loadavg();
  if (pin) {
    // Children inherit this process's affinity: upstream, sidecars and HAProxy all land on CPU 1.
    execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
  }
  const body = join(dir, "body.bin");
  writeFileSync(body, Buffer.alloc(BODY_BYTES, "b"));

  progress("starting the upstream");
  const upstream = await startUpstream(dir);

  progress(`bundling the seam sidecar, starting the pair (telemetry ${telemetry ? "on" : "off"})`);
  const bundle = await bundleSeamSidecar(dir);
  const cp = await startFakeControlPlane();
  const VIP = "10.96.9.7";
  cp.pushServices(
    [{ name: "app", virtual_ip: VIP, ports: [{ name: "p", port: 80, protocol: "http" }] }],
    "1",
  );
  const pair = await startSeamPair({
    cp,
    name: "speed",
    appPort: upstream.port,
    vip: VIP,
    telemetry,
    bundle,
    stderr: "ignore",
  }).catch((err: Error) => {
    throw new Error(
      `${err.message}\nthe sidecar's own error: node ${bundle} '{"controlPlane":"127.0.0.1:1","workload":"x","address":"10.0.0.1","dst":{"address":"10.0.0.1","port":1}}'`,
    );
  });
  await sleep(500); // the endpoints just pushed land

  progress("starting the HAProxy pair");
  const haB = await startHaproxy(dir, "haproxy B", upstream.port);
  const haA = await startHaproxy(dir, "haproxy A", haB.port);
  progress("starting the node pipe pair");
  const pipeB = await startNodePipe("node pipe B", upstream.port);
  const pipeA = await startNodePipe("node pipe A", pipeB.port);

  if (pin) {
    // This process is the stand-in control plane that receives the sidecars' spans and access logs:
    // off the proxies' core, as a control plane is off a data-plane node's, onto h2load's.
    execFileSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)], { stdio: "ignore" });
  }

  const paths: Path[] = [
    { name: "direct", port: upstream.port, proxies: [] },
    {
      name: "Weft pair",
      port: pair.port,
      proxies: [
        { name: "Weft client sidecar", pid: pair.client.pid! },
        { name: "Weft server sidecar", pid: pair.server.pid! },
      ],
    },
    { name: "HAProxy pair", port: haA.port, proxies: [haA, haB] },
    { name: "node pipe pair", port: pipeA.port, proxies: [pipeA, pipeB] },
  ];
  const cpu = pin ? 0 : undefined;

  const throughput: Report["throughput"] = [];
  for (const p of paths) {
    progress(`${p.name}: throughput, ${THROUGHPUT_CONNECTIONS} connections, ${T.throughput} s`);
    const o = { port: p.port, connections: THROUGHPUT_CONNECTIONS, cpu };
    await h2load({ ...o, seconds: T.warm });
    const procs = [...p.proxies, upstream];
    const before = procs.map((x) => cpuMs(x.pid));
    const run = await h2load({ ...o, seconds: T.throughput });
    throughput.push({
      path: p.name,
      rps: run.rps,
      failed: run.failed + run.non2xx,
      cpuPercent: [
        ...procs.map((x, i) => ({
          name: x.name,
          percent: Math.round((cpuMs(x.pid) - before[i]!) / 10 / run.seconds),
        })),
        { name: "h2load", percent: run.cpuPercent },
      ],
    });
  }

  // The fixed-rate runs take turns, path after path, ROUNDS times: a single window's p99 moved by
  // several ms between runs minutes apart (the machine's other work, steal), so each path's p50 and
  // p99 are the medians of its rounds, and the rounds' range of p99 is printed beside them.
  const latency: Report["latency"] = [];
  const rounds = paths.map(() => ({
    p50: [] as number[],
    p99: [] as number[],
    rps: [] as number[],
    failed: 0,
  }));
  /** Each proxy's CPU ms over the rounds, and the requests done. */
  const cpuUsed = paths.map((p) => p.proxies.map(() => 0));
  const kernelUsed = paths.map((p) => p.proxies.map(() => 0));
  const done = paths.map(() => 0);
  const atRate = (p: Path) => ({
    port: p.port,
    connections: RATE_CONNECTIONS,
    rate: RATE,
    body,
    cpu,
    bursts,
  });
  for (const p of paths) {
    progress(`${p.name}: warming up at ${RATE} req/s over ${RATE_CONNECTIONS} connections, ${T.warm} s`);
    await h2load({ ...atRate(p), seconds: T.warm });
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, p] of paths.entries()) {
      progress(`${p.name}: round ${r + 1} of ${ROUNDS}, ${RATE} req/s, ${T.latency} s`);
      const before = p.proxies.map((x) => cpuMs(x.pid));
      const kernelBefore = p.proxies.map((x) => kernelCpuMs(x.pid));
      const log = join(dir, `${p.name.replace(/\W/g, "")}-${r}.log`);
      const run = await h2load({ ...atRate(p), seconds: T.latency, log });
      p.proxies.forEach((x, i) => {
        cpuUsed[k]![i]! += cpuMs(x.pid) - before[i]!;
        kernelUsed[k]![i]! += kernelCpuMs(x.pid) - kernelBefore[i]!;
      });
      done[k]! += run.done;
      const lat = latenciesMs(log);
      const round = rounds[k]!;
      round.p50.push(percentile(lat, 50));
      round.p99.push(percentile(lat, 99));
      round.rps.push(run.rps);
      round.failed += run.failed + run.non2xx;
    }
  }
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  for (const [k, p] of paths.entries()) {
    const round = rounds[k]!;
    latency.push({
      path: p.name,
      rps: median(round.rps),
      failed: round.failed,
      p50: median(round.p50),
      p99: median(round.p99),
      p99Range: [Math.min(...round.p99), Math.max(...round.p99)],
      proxies: p.proxies.map((x, i) => ({
        name: x.name,
        // CPU-seconds per 1000 requests is vCPU per 1000 req/s (over all rounds).
        vcpuPer1000: cpuUsed[k]![i]! / Math.max(1, done[k]!),
        kernelVcpuPer1000: kernelUsed[k]![i]! / Math.max(1, done[k]!),
        rssMb: rssMb(x.pid),
        rssAnonMb: rssAnonMb(x.pid),
      })),
    });
  }
  await cp.close();
  return {
    cores: CORES,
    loadBefore,
    loadAfter: loadavg(),
    upstream: upstream.kind,
    telemetry,
    pinned: pin,
    bursts,
    rounds: ROUNDS,
    seconds: T,
    throughput,
    latency,
  };
}

try {
  const report = await main();
  if (flags.has("--json")) console.log(JSON.stringify({ ...report, goals: checkGoals(report) }, null, 2));
  else printReport(report);
  process.exit(0);
} catch (err) {
  console.error(`mesh-speed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
