// What tracing and access logging cost a sidecar pair (issue #8): the same fixed 1000 requests per
// second (h2load --h1 --rps, 16 connections, 1 KiB answers) through a pair with telemetry off and
// with every request traced (100% sampling) and access-logged, side by side: p50/p99 from h2load's
// per-request log, and the CPU both sidecars used per 1000 requests. The sidecars export to a fake
// control plane that refuses the calls, so serialising and sending are counted, storing is not.
// Usage: node --import tsx bench/tracing-cost.ts [SECONDS]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeControlPlane } from "../sidecar/src/testing/wire-fake-control-plane";
import { sleep, startChild, startSeamPair } from "./seam-pair";

const seconds = Number(process.argv[2] ?? 20);
const RATE = 1000;
const CONNECTIONS = 16;
const dir = mkdtempSync(join(tmpdir(), "wt-bench-tracing-"));
const cp = await startFakeControlPlane();
const VIP = "10.96.9.8";
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const rssMbOf = (pid?: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;

cp.pushServices([{ name: "app", virtual_ip: VIP, ports: [{ name: "p", port: 80, protocol: "http" }] }], "1");
const apps = await startChild(["--import", "tsx", join(import.meta.dirname, "sidecar-apps.ts")]);
const appPort = (JSON.parse(apps.line) as { h1: number }).h1;

async function run(telemetry: boolean) {
  const name = telemetry ? "on" : "off";
  const pair = await startSeamPair({ cp, name, appPort, vip: VIP, telemetry, stderr: "ignore" });
  const port = pair.port;
  await sleep(1500); // telemetry loads a second after start
  const h2load = (secs: number, log?: string) =>
    execFileSync(
      "h2load",
      ["--h1", "-c", String(CONNECTIONS), "--rps", String(RATE / CONNECTIONS), "-D", String(secs)]
        .concat(log ? ["--log-file", log] : [])
        .concat([`http://127.0.0.1:${port}/`]),
      { encoding: "utf8" },
    );
  h2load(3); // warm-up
  const cpu0 = pair.cpuMs();
  const log = join(dir, `${name}.log`);
  const out = h2load(seconds, log);
  const cpuMs = pair.cpuMs() - cpu0;
  const done = Number(/(\d+) succeeded/.exec(out)?.[1] ?? 0);
  // --log-file: start time, status, latency in microseconds per request.
  const lat = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => Number(l.split("\t")[2]) / 1000)
    .filter((v) => Number.isFinite(v))
    .sort((a, b) => a - b);
  const pct = (p: number) =>
    lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)] ?? Number.NaN;
  const rss = [rssMbOf(pair.client.pid), rssMbOf(pair.server.pid)];
  pair.stop();
  return { name, done, p50: pct(50), p99: pct(99), cpuPer1000: ((cpuMs / done) * 1000) / 2, rss };
}

const off = await run(false);
const on = await run(true);
const row = (r: typeof off) =>
  `${r.name.padEnd(28)}${String(r.done).padStart(9)}${r.p50.toFixed(2).padStart(10)}${r.p99.toFixed(2).padStart(10)}${r.cpuPer1000.toFixed(0).padStart(18)}${`${r.rss[0]!.toFixed(0)}/${r.rss[1]!.toFixed(0)}`.padStart(14)}`;
console.log(`\ntracing cost at ${RATE} req/s over ${CONNECTIONS} connections, ${seconds} s each (2 cores)`);
console.log(
  `${"telemetry".padEnd(28)}${"requests".padStart(9)}${"p50 ms".padStart(10)}${"p99 ms".padStart(10)}${"CPU ms/1000 req".padStart(18)}${"RSS MB c/s".padStart(14)}`,
);
console.log(row(off));
console.log(row({ ...on, name: "on (100% traced, logged)" }));
console.log(
  `on vs off: CPU ${((on.cpuPer1000 / off.cpuPer1000 - 1) * 100).toFixed(1)}% more per sidecar, p99 +${(on.p99 - off.p99).toFixed(2)} ms`,
);
process.exit(0);
