// The sidecar process's own resource use on /metrics, under the names Prometheus' Node.js client
// (prom-client) uses by default, so existing dashboards and alerts work: resident memory, CPU
// seconds, the V8 heap (whole and per space) and memory outside it, read at scrape time; and how
// late the event loop ran (node's event-loop delay histogram, sampled every 20 ms and reset at each
// scrape, so each scrape reports the interval since the one before): a proxy whose loop runs late
// delays every request it holds by as much. The histogram holds the time between its timer's runs;
// the gauges are that less the 20 ms asked for, so an idle loop reads about 0 (prom-client's read
// about its 10 ms interval).
import { createRequire } from "node:module";
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import type { Metrics } from "./metrics";

type V8 = typeof import("node:v8");
let v8: V8 | undefined;

/** ms between the event-loop delay histogram's samples (prom-client's default is 10; a sidecar
 * mostly idles). */
const LOOP_DELAY_RESOLUTION_MS = 20;
const INTERVAL_NS = LOOP_DELAY_RESOLUTION_MS * 1e6;

/** The event-loop delay gauges, prom-client's names, each from the histogram (nanoseconds between
 * its timer's runs) less the interval asked for: how late the loop ran. */
const LOOP_DELAY: ReadonlyArray<[string, string, (h: IntervalHistogram) => number]> = [
  ["nodejs_eventloop_lag_min_seconds", "The minimum recorded event loop delay.", (h) => h.min - INTERVAL_NS],
  ["nodejs_eventloop_lag_max_seconds", "The maximum recorded event loop delay.", (h) => h.max - INTERVAL_NS],
  [
    "nodejs_eventloop_lag_mean_seconds",
    "The mean of the recorded event loop delays.",
    (h) => h.mean - INTERVAL_NS,
  ],
  [
    "nodejs_eventloop_lag_stddev_seconds",
    "The standard deviation of the recorded event loop delays.",
    (h) => h.stddev,
  ],
  [
    "nodejs_eventloop_lag_p50_seconds",
    "The 50th percentile of the recorded event loop delays.",
    (h) => h.percentile(50) - INTERVAL_NS,
  ],
  [
    "nodejs_eventloop_lag_p90_seconds",
    "The 90th percentile of the recorded event loop delays.",
    (h) => h.percentile(90) - INTERVAL_NS,
  ],
  [
    "nodejs_eventloop_lag_p99_seconds",
    "The 99th percentile of the recorded event loop delays.",
    (h) => h.percentile(99) - INTERVAL_NS,
  ],
];

export function collectProcessMetrics(metrics: Metrics): void {
  metrics.define("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  metrics.define("process_cpu_user_seconds_total", "counter", "User CPU time spent in seconds.");
  metrics.define("process_cpu_system_seconds_total", "counter", "System CPU time spent in seconds.");
  metrics.define(
    "process_start_time_seconds",
    "gauge",
    "Start time of the process since the Unix epoch in seconds.",
  );
  metrics.define("nodejs_heap_size_total_bytes", "gauge", "Process heap size from Node.js in bytes.");
  metrics.define("nodejs_heap_size_used_bytes", "gauge", "Process heap size used from Node.js in bytes.");
  metrics.define("nodejs_external_memory_bytes", "gauge", "Node.js external memory size in bytes.");
  metrics.define("nodejs_heap_space_size_used_bytes", "gauge", "Used size of each V8 heap space in bytes.");
  metrics.define("nodejs_heap_space_size_total_bytes", "gauge", "Size of each V8 heap space in bytes.");
  for (const [name, help] of LOOP_DELAY) metrics.define(name, "gauge", `${help} (seconds)`);
  const loop = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loop.enable();
  const started = Math.round(Date.now() / 1000 - process.uptime());
  const one = (value: number) => [{ labels: {}, value }];
  metrics.collect((m) => {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    m.setGauge("process_resident_memory_bytes", one(memory.rss));
    m.setGauge("process_cpu_user_seconds_total", one(cpu.user / 1e6));
    m.setGauge("process_cpu_system_seconds_total", one(cpu.system / 1e6));
    m.setGauge("process_start_time_seconds", one(started));
    m.setGauge("nodejs_heap_size_total_bytes", one(memory.heapTotal));
    m.setGauge("nodejs_heap_size_used_bytes", one(memory.heapUsed));
    m.setGauge("nodejs_external_memory_bytes", one(memory.external));
    // Nothing recorded yet, or a sample a little early, reads as 0.
    for (const [name, , stat] of LOOP_DELAY) {
      const ns = loop.count > 0 ? stat(loop) : 0;
      m.setGauge(name, one(Number.isFinite(ns) ? Math.max(0, ns) / 1e9 : 0));
    }
    loop.reset();
    // node:v8 is loaded at the first scrape, not at start.
    v8 ??= createRequire(import.meta.url)("node:v8") as V8;
    const spaces = v8.getHeapSpaceStatistics();
    m.setGauge(
      "nodejs_heap_space_size_used_bytes",
      spaces.map((s) => ({
        labels: { space: s.space_name.replace(/_space$/, "") },
        value: s.space_used_size,
      })),
    );
    m.setGauge(
      "nodejs_heap_space_size_total_bytes",
      spaces.map((s) => ({ labels: { space: s.space_name.replace(/_space$/, "") }, value: s.space_size })),
    );
  });
}
