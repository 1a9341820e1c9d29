// Config push convergence: N simulated sidecars holding real gRPC config streams (spread over
// worker processes, one HTTP/2 connection each) against a real control plane process; one
// endpoint change (SyncEndpoints); the time until every subscribed sidecar has received and ACKed
// it, p50/p99 over sidecars and rounds; and the control plane's RSS and CPU while they are connected.
// Usage: node --import tsx bench/push.ts [N...] (default 1000 5000); WORKERS=4 ROUNDS=5
import { type ChildProcess, fork, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { syncEndpoints } from "../control-plane/src/grpc-testing";
import type { FromWorker, ToWorker } from "./push-worker";
import { percentile } from "./stats";

const root = join(import.meta.dirname, "..");
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const WORKERS = Number(process.env.WORKERS ?? 4);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SERVICES = 100;
const TICKS = 100; // USER_HZ: /proc/PID/stat times are in 1/100 s
const now = () => performance.timeOrigin + performance.now();

interface ControlPlaneProcess {
  child: ChildProcess;
  grpc: string;
  dir: string;
}

/** The CLI bundled as `npm run build` does, into a temp dir (dist/ belongs to the others' tests). */
async function bundle(dir: string): Promise<string> {
  const out = join(dir, "weft.cjs");
  await esbuild.build({
    entryPoints: [join(root, "cli", "main.ts")],
    outfile: out,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "warning",
    define: { "import.meta.url": "__weftImportMetaUrl" },
    banner: { js: "const __weftImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    external: ["*.node", "better-sqlite3"],
  });
  return out;
}

async function startControlPlane(cli: string): Promise<ControlPlaneProcess> {
  const dir = mkdtempSync(join(tmpdir(), "weft-bench-push-"));
  const child = spawn(
    process.execPath,
    [cli, "control-plane", "--data-dir", join(dir, "data"), "--grpc-port", "0", "--http-port", "0"].concat([
      "--grpc-socket",
      join(dir, "cp.sock"),
      "--source-ttl",
      "60m",
      "--dns-port",
      "0",
    ]),
    {
      env: { ...process.env, WEFT_PROTO_DIR: join(root, "proto"), NODE_PATH: join(root, "node_modules") },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const grpc = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /control plane ready grpc=(\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`control plane exited ${code}`)));
  });
  return { child, grpc, dir };
}

function procStats(pid: number): { rssMb: number; hwmMb: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  // Fields after the ")" of the command name: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    rssMb: kb("VmRSS") / 1024,
    hwmMb: kb("VmHWM") / 1024,
    cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS,
  };
}

function endpoints(round: number) {
  const list = [];
  for (let s = 0; s < SERVICES; s++) {
    for (let e = 0; e < 3; e++) {
      const changed = s === 0 && e === 0 && round > 0;
      list.push({
        id: `svc-${s}-${e}`,
        service: `svc-${s}`,
        address: changed ? `10.99.${round}.1` : `10.88.${s}.${e + 2}`,
        ports: [{ name: "http", port: 8080, protocol: "http" }],
        labels: { version: "v1" },
        workload: `svc-${s}-${e}`,
        node: "bench",
        healthy: true,
      });
    }
  }
  return { source: "daemon:bench", endpoints: list };
}

class Worker {
  readonly child: ChildProcess;
  private readonly waiters: Array<(m: FromWorker) => boolean> = [];
  constructor() {
    this.child = fork(join(import.meta.dirname, "push-worker.ts"), [], { execArgv: ["--import", "tsx"] });
    this.child.on("message", (m: FromWorker) => {
      if (m.type === "error") console.error(`worker: ${m.message}`);
      const i = this.waiters.findIndex((w) => w(m));
      if (i >= 0) this.waiters.splice(i, 1);
    });
  }
  send(m: ToWorker): void {
    this.child.send(m);
  }
  next<T extends FromWorker["type"]>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve) =>
      this.waiters.push((m) => {
        if (m.type !== type) return false;
        resolve(m as Extract<FromWorker, { type: T }>);
        return true;
      }),
    );
  }
}

interface Row {
  n: number;
  spread: string;
  subscribers: number;
  p50: number;
  p99: number;
  max: number;
  missing: number;
  unexpected: number;
  connectS: number;
  rssMb: number;
  hwmMb: number;
  idleCpu: number;
  pushCpuMs: number;
}

async function runOne(cli: string, n: number, spread: boolean): Promise<Row> {
  const cp = await startControlPlane(cli);
  const pid = cp.child.pid!;
  const workers = Array.from({ length: WORKERS }, () => new Worker());
  try {
    await syncEndpoints(cp.grpc, endpoints(0));
    const serviceOf = (id: number) => (spread ? `svc-${id % SERVICES}` : "svc-0");
    const started = now();
    await Promise.all(
      workers.map((w, k) => {
        const ids = Array.from({ length: n }, (_, i) => i).filter((i) => i % WORKERS === k);
        w.send({ cmd: "connect", target: cp.grpc, ids, serviceOf: ids.map(serviceOf), batch: 50 });
        return w.next("connected");
      }),
    );
    const connectS = (now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const idleA = procStats(pid);
    await new Promise((r) => setTimeout(r, 2000));
    const idleB = procStats(pid);
    const all: number[] = [];
    let missing = 0;
    let unexpected = 0;
    let pushCpu = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      // Workers with no subscriber answer "acks" right after "watching": listen for both first.
      const acks = Promise.all(workers.map((w) => w.next("acks")));
      await Promise.all(
        workers.map((w) => {
          const watching = w.next("watching");
          w.send({ cmd: "watch", round, service: "svc-0", address: `10.99.${round}.1`, timeoutMs: 30_000 });
          return watching;
        }),
      );
      const before = procStats(pid);
      const t0 = now();
      await syncEndpoints(cp.grpc, endpoints(round));
      for (const r of await acks) {
        for (const t of r.times) all.push(t - t0);
        missing += r.missing;
        unexpected += r.unexpected;
      }
      pushCpu += procStats(pid).cpuS - before.cpuS;
      await new Promise((r) => setTimeout(r, 300));
    }
    const final = procStats(pid);
    return {
      n,
      spread: spread ? `1 of ${SERVICES}` : "all one",
      subscribers: spread ? Math.ceil(n / SERVICES) : n,
      p50: percentile(all, 50),
      p99: percentile(all, 99),
      max: Math.max(...all),
      missing,
      unexpected,
      connectS,
      rssMb: final.rssMb,
      hwmMb: final.hwmMb,
      idleCpu: ((idleB.cpuS - idleA.cpuS) / 2) * 100,
      pushCpuMs: (pushCpu / ROUNDS) * 1000,
    };
  } finally {
    for (const w of workers) w.send({ cmd: "close" });
    await Promise.all(workers.map((w) => new Promise((r) => w.child.once("exit", r))));
    cp.child.kill("SIGTERM");
    await new Promise((r) => cp.child.once("exit", r));
    rmSync(cp.dir, { recursive: true, force: true });
  }
}

function table(rows: Row[]): string {
  const head = [
    "N",
    "subscribed to",
    "updated",
    "p50",
    "p99",
    "max",
    "lost",
    "extra",
    "connect",
    "CP RSS (peak)",
    "CP CPU idle",
    "CP CPU/push",
  ];
  const body = rows.map((r) => [
    String(r.n),
    r.spread,
    String(r.subscribers),
    `${r.p50.toFixed(0)} ms`,
    `${r.p99.toFixed(0)} ms`,
    `${r.max.toFixed(0)} ms`,
    String(r.missing),
    String(r.unexpected),
    `${r.connectS.toFixed(1)} s`,
    `${r.rssMb.toFixed(0)} MB (${r.hwmMb.toFixed(0)})`,
    `${r.idleCpu.toFixed(1)} %`,
    `${r.pushCpuMs.toFixed(0)} ms`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ")).join("\n");
}

const dir = mkdtempSync(join(tmpdir(), "weft-bench-cli-"));
try {
  const cli = await bundle(dir);
  const rows: Row[] = [];
  for (const n of sizes.length > 0 ? sizes : [1000, 5000]) {
    for (const spread of [false, true]) {
      const row = await runOne(cli, n, spread);
      rows.push(row);
      console.error(`done: N=${n} ${row.spread}`);
    }
  }
  console.log(
    `config push convergence: ${ROUNDS} endpoint changes each, ${WORKERS} worker processes, ${SERVICES} services`,
  );
  console.log(table(rows));
  console.log(
    "lost = subscribers that never got the change (30 s); extra = updates sent to streams not subscribed to it",
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
