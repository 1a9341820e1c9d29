// The sidecar on its own (issue #6): start-to-ready and idle RSS of one bundled sidecar, then
// h2load through a sidecar pair next to direct for HTTP/1.1 and h2c, and gRPC bidi-streaming
// messages per second through the pair next to direct, in one run, printed as ratios.
// Each sidecar is a process of its own on 127.0.0.1 (sidecar/src/testing/seam-sidecar.ts: a fixed
// original destination in place of iptables); the apps run in one more process.
// Usage: node --import tsx bench/sidecar.ts [SECONDS] [CONNECTIONS]
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { bundleSidecar } from "../sidecar/src/testing/bundle";
import { rawMethod } from "../sidecar/src/testing/raw-method";
import { startFakeControlPlane } from "../sidecar/src/testing/wire-fake-control-plane";
import { bundleSeamSidecar } from "./mesh-bundle";
import { rssMb } from "./mesh-procs";
import { nodeFlags, readyStatus, SIDECAR_ENV, sleep, startChild, startSeamPair } from "./seam-pair";

const seconds = Number(process.argv[2] ?? 5);
const connections = Number(process.argv[3] ?? 16);
const dir = mkdtempSync(join(tmpdir(), "wt-bench-sidecar-"));
const execFileAsync = promisify(execFile);
const cp = await startFakeControlPlane();
const VIP = "10.96.9.9";
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

// 1. Start-to-ready and idle RSS of the bundled sidecar (what the daemon runs).
cp.pushServices([{ name: "app", virtual_ip: VIP, ports: [{ name: "p", port: 80, protocol: "auto" }] }], "1");
const bundle = await bundleSidecar(dir);
const zero = ["outbound", "inbound", "admin", "health", "metrics", "dns"].flatMap((p) => [
  `--${p}-port`,
  "0",
]);
const startups: number[] = [];
let idleRssMb = 0;
const STARTS = 9;
for (let i = 0; i < STARTS; i++) {
  const t0 = performance.now();
  const { child, line } = await startChild(
    [...nodeFlags(), bundle, "--control-plane", cp.target, "--workload", "w", ...zero],
    "inherit",
    SIDECAR_ENV,
  );
  const health = Number(/ health=(\d+)/.exec(line)?.[1]);
  while ((await readyStatus(health)) !== 200) await sleep(2);
  startups.push(performance.now() - t0);
  // Idle: two seconds after ready, no traffic yet; tracing and access logs have loaded (a second
  // after ready).
  await sleep(2000);
  idleRssMb = rssMb(child.pid!);
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}
startups.sort((a, b) => a - b);
// The same machine's floor: a bare `node -e 0` start and exit (a loaded machine inflates both).
const bare: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  await new Promise((r) => spawn(process.execPath, ["-e", "0"], { env: SIDECAR_ENV }).once("exit", r));
  bare.push(performance.now() - t0);
}
bare.sort((a, b) => a - b);

// 2. The apps: HTTP/1.1, h2c and gRPC, in a process of their own.
const apps = await startChild(["--import", "tsx", join(import.meta.dirname, "sidecar-apps.ts")]);
const appPorts = JSON.parse(apps.line) as { h1: number; h2: number; grpc: number };

// The pair runs bundled with plain node and production's flags, as the daemon runs a sidecar.
const seamBundle = await bundleSeamSidecar(dir);
const pair = (name: string, appPort: number) =>
  startSeamPair({ cp, name, appPort, vip: VIP, bundle: seamBundle });

/**
 * h2load: requests per second and requests done. Run asynchronously: the fake control plane lives in
 * this process, and a blocking run froze it, so the sidecars' span and log exports stalled and their
 * queues dropped what a working control plane would have taken (and the sidecars' cost of it).
 */
async function h2load(port: number, h1: boolean): Promise<{ rps: number; done: number }> {
  const args = ["-D", String(seconds), "-c", String(connections), "-m", h1 ? "1" : "10", "-t", "1"];
  if (h1) args.push("--h1");
  const { stdout: out } = await execFileAsync("h2load", [...args, `http://127.0.0.1:${port}/`], {
    encoding: "utf8",
  });
  const failed = Number(/(\d+) failed/.exec(out)?.[1] ?? 0);
  if (failed > 0) console.error(`h2load: ${failed} failed requests on port ${port}`);
  return {
    rps: Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0),
    done: Number(/(\d+) succeeded/.exec(out)?.[1] ?? 0),
  };
}

const Echo = grpc.makeGenericClientConstructor(
  {
    both: rawMethod("/b.Echo/Both", true, true),
  } as unknown as grpc.ServiceDefinition,
  "Echo",
);

/** Messages per second echoed on one bidi stream, with up to 64 in flight. */
async function grpcStream(port: number): Promise<number> {
  const client = new Echo(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    both(): grpc.ClientDuplexStream<Buffer, Buffer>;
  };
  const call = client.both();
  const payload = Buffer.alloc(100, 1);
  let received = 0;
  let sent = 0;
  const end = Date.now() + seconds * 1000;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (sent - received < 64 && Date.now() < end) {
        sent++;
        call.write(payload);
      }
    };
    call.on("data", () => {
      received++;
      if (Date.now() >= end) {
        call.cancel();
        resolve();
      } else pump();
    });
    call.on("error", (err: grpc.ServiceError) =>
      err.code === grpc.status.CANCELLED ? resolve() : reject(err),
    );
    pump();
  });
  client.close();
  return received / seconds;
}

/** Milliseconds for one GET through `port` on a new connection. */
function timedGet(port: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve(performance.now() - t0));
      })
      .on("error", reject);
  });
}

const rows: Array<[string, number, number, string]> = [];
let firstRequest = "";
/** CPU ms per 1000 requests, per sidecar (the pair's CPU over the requests, halved). */
const cpuPer1000: Array<[string, number]> = [];
for (const [name, label, h1] of [
  ["h1", "h2load --h1 (req/s)", true],
  ["h2", "h2load h2c -m 10 (req/s)", false],
] as const) {
  const p = await pair(name, appPorts[name]);
  if (h1) {
    const [first, second] = [await timedGet(p.port), await timedGet(p.port)];
    firstRequest = `first HTTP/1.1 request through a pair just ready: ${first.toFixed(1)} ms (it starts tracing and access logs loading, and goes untraced), the next: ${second.toFixed(1)} ms`;
  }
  const direct = await h2load(appPorts[name], h1);
  const before = p.cpuMs();
  const through = await h2load(p.port, h1);
  cpuPer1000.push([label, (p.cpuMs() - before) / 2 / (through.done / 1000)]);
  rows.push([label, direct.rps, through.rps, "req/s"]);
  p.stop();
}
const grpcPair = await pair("grpc", appPorts.grpc);
rows.push([
  "gRPC bidi stream (msg/s)",
  await grpcStream(appPorts.grpc),
  await grpcStream(grpcPair.port),
  "msg/s",
]);
grpcPair.stop();

const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
console.log(`sidecar bench: ${seconds} s per run, ${connections} connections, load average ${load}`);
console.log(
  `start-to-ready (bundled sidecar, first config from a local control plane): median ${startups[(STARTS - 1) / 2]?.toFixed(0)} ms, min ${startups[0]?.toFixed(0)} ms (bare node -e 0: median ${bare[2]?.toFixed(0)} ms); idle RSS ${idleRssMb.toFixed(1)} MB`,
);
console.log(firstRequest);
for (const [name, direct, through] of rows) {
  console.log(
    `${name.padEnd(26)} direct ${direct.toFixed(0).padStart(7)}  through the pair ${through.toFixed(0).padStart(7)}  ratio ${(through / direct).toFixed(2)}x`,
  );
}
for (const [name, ms] of cpuPer1000) {
  console.log(`${name.padEnd(26)} CPU per sidecar: ${ms.toFixed(0)} ms per 1000 requests`);
}
await cp.close();
process.exit(0);
