// The sidecar process's own resource use on /metrics, under the names Prometheus' Node.js client
// (prom-client) uses by default, so existing dashboards and alerts work: resident memory, CPU
// seconds, the V8 heap (whole and per space) and memory outside it. Read at scrape time only.
import { createRequire } from "node:module";
import type { Metrics } from "./metrics";

type V8 = typeof import("node:v8");
let v8: V8 | undefined;

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
