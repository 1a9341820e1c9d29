// What bench/mesh-speed.ts measured, the goals of issue #7 checked against it, and the table it prints.

export interface Report {
  cores: number;
  loadBefore: string;
  loadAfter: string;
  upstream: "nginx" | "node";
  telemetry: boolean;
  /** h2load and the stand-in control plane on CPU 0, upstream and proxies on CPU 1. */
  pinned: boolean;
  /** The fixed-rate runs sent each 16 requests in the same millisecond (h2load's default), not 1 per ms. */
  bursts: boolean;
  /** Fixed-rate rounds per path, in turns; seconds.latency is one round's. */
  rounds: number;
  seconds: { warm: number; throughput: number; latency: number };
  throughput: Array<{
    path: string;
    rps: number;
    /** Failed or non-2xx requests. */
    failed: number;
    /** Each proxy's, the upstream's and h2load's share of one core during the run. */
    cpuPercent: Array<{ name: string; percent: number }>;
  }>;
  latency: Array<{
    path: string;
    rps: number;
    failed: number;
    /** Medians over the rounds. */
    p50: number;
    p99: number;
    /** The lowest and highest round's p99. */
    p99Range: [number, number];
    proxies: Array<{
      name: string;
      vcpuPer1000: number;
      /** The part of vcpuPer1000 spent in the kernel (stime). */
      kernelVcpuPer1000: number;
      rssMb: number;
      rssAnonMb: number;
    }>;
  }>;
}

/** The fixed rate of the latency runs, over all connections. */
export const RATE = 1000;

export const GOALS = {
  p99AddedMs: 2,
  vcpuPer1000: 0.15,
  rssMb: 60,
  throughputVsHaproxy: 0.25,
};

export interface GoalCheck {
  goal: string;
  value: number;
  met: boolean;
}

/** The goals of issue #7 for the Weft pair, each with the measured value. */
export function checkGoals(r: Report): GoalCheck[] {
  const rps = (p: string) => r.throughput.find((x) => x.path === p)?.rps ?? Number.NaN;
  const lat = (p: string) => r.latency.find((x) => x.path === p);
  const added = (lat("Weft pair")?.p99 ?? Number.NaN) - (lat("direct")?.p99 ?? Number.NaN);
  const checks: GoalCheck[] = [
    {
      goal: `pair adds <= ${GOALS.p99AddedMs} ms p99 at 1000 req/s`,
      value: added,
      met: added <= GOALS.p99AddedMs,
    },
  ];
  for (const s of lat("Weft pair")?.proxies ?? []) {
    checks.push({
      goal: `${s.name}: <= ${GOALS.vcpuPer1000} vCPU per 1000 req/s`,
      value: s.vcpuPer1000,
      met: s.vcpuPer1000 <= GOALS.vcpuPer1000,
    });
    checks.push({
      goal: `${s.name}: RSS <= ${GOALS.rssMb} MB at 1000 req/s`,
      value: s.rssMb,
      met: s.rssMb <= GOALS.rssMb,
    });
  }
  const ratio = rps("Weft pair") / rps("HAProxy pair");
  checks.push({
    goal: `throughput >= ${GOALS.throughputVsHaproxy}x the HAProxy pair`,
    value: ratio,
    met: ratio >= GOALS.throughputVsHaproxy,
  });
  return checks;
}

const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "-");
const mark = (met: boolean) => (met ? "met" : "NOT met");

export function printReport(r: Report): void {
  const out: string[] = [];
  const direct = r.throughput.find((x) => x.path === "direct")?.rps ?? Number.NaN;
  const haproxy = r.throughput.find((x) => x.path === "HAProxy pair")?.rps ?? Number.NaN;
  out.push(
    `mesh speed (issue #7): ${r.cores} cores; load average ${r.loadBefore} at start, ${r.loadAfter} at the end`,
    `upstream: ${r.upstream === "nginx" ? "nginx, 1 worker" : "bench/upstream.mjs (node:http; nginx missing)"}, 1 KiB answers; ` +
      `Weft sidecars with telemetry ${r.telemetry ? "on (as in production)" : "off"}; ` +
      (r.pinned
        ? "h2load and the stand-in control plane (receiving spans and logs) pinned to CPU 0, upstream and proxies to CPU 1"
        : "no CPU pinning"),
    "",
    `throughput: h2load --h1 -c 50 GET, ${r.seconds.throughput} s after ${r.seconds.warm} s warm-up`,
    `${"path".padEnd(14)}${"req/s".padStart(9)}${"vs direct".padStart(11)}${"vs HAProxy".padStart(12)}  CPU % of one core during the run`,
  );
  for (const t of r.throughput) {
    out.push(
      `${t.path.padEnd(14)}${t.rps.toFixed(0).padStart(9)}${`${f(t.rps / direct)}x`.padStart(11)}${`${f(t.rps / haproxy)}x`.padStart(12)}  ` +
        t.cpuPercent.map((c) => `${c.name} ${c.percent}`).join(", ") +
        (t.failed ? `  (${t.failed} failed/non-2xx)` : ""),
    );
  }
  const ld = r.latency.find((x) => x.path === "direct");
  out.push(
    "",
    `latency: ${RATE} req/s over 16 connections, POST 1 KiB, ${r.rounds} rounds of ${r.seconds.latency} s per path in turns (medians shown) after ${r.seconds.warm} s warm-up, ` +
      (r.bursts
        ? "in bursts: 16 requests in the same millisecond every 16 ms (--bursts)"
        : `spread: connections started ${Math.round(1000 / RATE)} ms apart, one request per ms`),
    `${"path".padEnd(14)}${"req/s".padStart(9)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"p99 added".padStart(11)}${"p99 of the rounds".padStart(20)}`,
  );
  for (const l of r.latency) {
    const d = l.p99 - (ld?.p99 ?? Number.NaN);
    const added = l.path === "direct" ? "" : `${d >= 0 ? "+" : ""}${f(d)}`;
    out.push(
      `${l.path.padEnd(14)}${l.rps.toFixed(0).padStart(9)}${f(l.p50).padStart(9)}${f(l.p99).padStart(9)}${added.padStart(11)}` +
        `${`${f(l.p99Range[0])}-${f(l.p99Range[1])}`.padStart(20)}` +
        (l.failed ? `  (${l.failed} failed/non-2xx)` : "") +
        (l.rps < 0.95 * RATE
          ? "  (rate not held: the path could not keep up, so p50/p99 understate its delay)"
          : ""),
    );
  }
  out.push(
    "",
    "each proxy during the fixed-rate run",
    `${"proxy".padEnd(22)}${"vCPU per 1000 req/s".padStart(21)}${"of it kernel".padStart(14)}${"RSS MB".padStart(9)}${"of it anon MB".padStart(15)}`,
  );
  for (const l of r.latency) {
    for (const p of l.proxies) {
      out.push(
        `${p.name.padEnd(22)}${f(p.vcpuPer1000, 3).padStart(21)}${f(p.kernelVcpuPer1000, 3).padStart(14)}` +
          `${f(p.rssMb, 1).padStart(9)}${f(p.rssAnonMb, 1).padStart(15)}`,
      );
    }
  }
  out.push(
    "(kernel: system calls and the network stack they run; on loopback a send also runs the receiving",
    " socket's TCP path. It is what any proxy pays for the same reads and writes.)",
    "(node pipe: a Node.js process that only copies bytes, no HTTP: the floor under any Node.js proxy)",
    "(anon: the process's own memory; the rest of RSS is its executable's and libraries' file pages,",
    " which every sidecar on a host shares through the page cache: about 42 MB for node)",
  );
  out.push("", "goals (Weft pair)");
  for (const g of checkGoals(r))
    out.push(`  ${g.goal.padEnd(52)}${f(g.value, 3).padStart(9)}  ${mark(g.met)}`);
  console.log(out.join("\n"));
}
