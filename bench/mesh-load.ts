// h2load (nghttp2-client) as bench/mesh-speed.ts runs it: HTTP/1.1, either as fast as it can over
// N connections or at a fixed rate (--rps is per connection), optionally POSTing a body and writing
// the per-request log h2load offers in place of percentiles.
//
// At a fixed rate h2load starts every connection at once, and each sends on its own timer of the same
// period: 1000 req/s over 16 connections arrive as bursts of 16 requests in the same millisecond,
// every 16 ms (its --log-file shows it). A proxy then queues up to 15 requests behind each burst's
// first, and p50/p99 measure the burst, not the rate. So by default the connections start 1/rate
// apart (h2load's -r 1 --rate-period), and the requests arrive one every millisecond, as a fixed
// rate means; `bursts: true` keeps h2load's alignment.
//
// Run asynchronously so that the bench's signal handlers still fire (and kill it) while a run is in
// progress.
import { readFileSync } from "node:fs";
import { cpuMs, spawnTracked } from "./mesh-procs";

export interface LoadRun {
  /** h2load's own figure: requests done over the run's duration. */
  rps: number;
  done: number;
  failed: number;
  /** Responses that were not 2xx. */
  non2xx: number;
  seconds: number;
  /** h2load's own CPU over the run, in % of one core (sampled every 200 ms: a floor). */
  cpuPercent: number;
}

export interface LoadOptions {
  port: number;
  connections: number;
  seconds: number;
  /** Requests per second over all connections (h2load takes it per connection). */
  rate?: number;
  /** A file to POST as each request's body. */
  body?: string;
  /** Where h2load writes one line per request (start µs, status, µs to the end of the response). */
  log?: string;
  /** Run h2load on this CPU only (taskset), away from the proxies. */
  cpu?: number;
  /** With `rate`: start every connection at once, so requests arrive in bursts (see above). */
  bursts?: boolean;
}

/** One h2load run; rejects with its output if h2load fails or exits non-zero. */
export async function h2load(o: LoadOptions): Promise<LoadRun> {
  const args = ["--h1", "-t", "1", "-c", String(o.connections)];
  if (o.rate !== undefined && !o.bursts) {
    // -r (one connection per period) excludes -D: the run is its request count at the rate.
    // h2load takes whole milliseconds: 1 ms at 1000 req/s; coarser rates round.
    const periodMs = Math.max(1, Math.round(1000 / o.rate));
    args.push("-n", String(Math.round(o.rate * o.seconds)), "-r", "1", "--rate-period", `${periodMs}ms`);
  } else args.push("-D", String(o.seconds));
  if (o.rate !== undefined) args.push("--rps", String(o.rate / o.connections));
  if (o.body) args.push("-d", o.body);
  if (o.log) args.push("--log-file", o.log);
  args.push(`http://127.0.0.1:${o.port}/`);
  const [cmd, argv] =
    o.cpu === undefined ? ["h2load", args] : ["taskset", ["-c", String(o.cpu), "h2load", ...args]];
  const child = spawnTracked(cmd, argv, "pipe");
  let out = "";
  // h2load is gone (and its /proc entry with it) by the time it has reported: sample as it runs.
  let ownCpuMs = 0;
  const sampler = setInterval(() => {
    ownCpuMs = Math.max(ownCpuMs, cpuMs(child.pid!));
  }, 200);
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", (err) =>
      reject(new Error(`cannot run h2load (apt-get install -y nghttp2-client): ${err.message}`)),
    );
    child.once("exit", (c) => resolve(c));
  }).finally(() => clearInterval(sampler));
  if (code !== 0)
    throw new Error(`h2load ${argv.join(" ")} exited with ${code}:\n${out}${child.stderrTail()}`);
  const finished = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(out);
  const counts = /(\d+) succeeded, (\d+) failed/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!finished || !counts || !codes) throw new Error(`cannot read h2load's output:\n${out}`);
  const seconds = Number(finished[1]) / (finished[2] === "ms" ? 1000 : 1);
  return {
    rps: Number(finished[3]),
    seconds,
    cpuPercent: Math.round(ownCpuMs / 10 / seconds),
    done: Number(counts[1]),
    failed: Number(counts[2]),
    non2xx: Number(codes[2]) + Number(codes[3]) + Number(codes[4]),
  };
}

/** Latencies in ms from an h2load --log-file, sorted ascending. */
export function latenciesMs(log: string): number[] {
  return readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => Number(l.split("\t")[2]) / 1000)
    .filter((v) => Number.isFinite(v))
    .sort((a, b) => a - b);
}

/** The p-th percentile (nearest rank) of ascending values. */
export function percentile(sorted: number[], p: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}
