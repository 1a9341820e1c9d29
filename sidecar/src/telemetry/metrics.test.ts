// What Prometheus scrapes: counters with their labels, latency histograms with cumulative buckets,
// TCP gauges and bytes, and the config versions a sidecar holds.
import test from "ava";
import { startHarness } from "../testing/harness";
import { Metrics } from "./metrics";
import { collectProcessMetrics } from "./process-metrics";

test("requests render as a counter and a cumulative latency histogram", (t) => {
  const m = new Metrics();
  m.request({ direction: "outbound", service: "web", route: "default", code: 200, durationMs: 3 });
  m.request({ direction: "outbound", service: "web", route: "default", code: 200, durationMs: 30 });
  m.request({ direction: "outbound", service: "web", route: "default", code: 503, durationMs: 0.2 });
  // Series that differ in one label each stay apart (they are found through nested maps).
  m.request({ direction: "inbound", service: "web", route: "default", code: 200, durationMs: 1 });
  m.request({ direction: "outbound", service: "api", route: "default", code: 200, durationMs: 1 });
  m.request({ direction: "outbound", service: "web", route: "v2", code: 200, durationMs: 1 });
  const text = m.render();
  t.regex(text, /weft_requests_total\{direction="inbound",service="web",code="200",route="default"\} 1\n/);
  t.regex(text, /weft_requests_total\{direction="outbound",service="api",code="200",route="default"\} 1\n/);
  t.regex(text, /weft_requests_total\{direction="outbound",service="web",code="200",route="v2"\} 1\n/);
  t.regex(text, /weft_request_duration_ms_count\{direction="outbound",service="web",route="v2"\} 1\n/);
  t.regex(text, /# TYPE weft_request_duration_ms histogram/);
  t.regex(text, /weft_requests_total\{direction="outbound",service="web",code="200",route="default"\} 2/);
  t.regex(text, /weft_requests_total\{direction="outbound",service="web",code="503",route="default"\} 1/);
  t.regex(
    text,
    /weft_request_duration_ms_bucket\{direction="outbound",service="web",route="default",le="0.5"\} 1/,
  );
  t.regex(
    text,
    /weft_request_duration_ms_bucket\{direction="outbound",service="web",route="default",le="5"\} 2/,
  );
  t.regex(
    text,
    /weft_request_duration_ms_bucket\{direction="outbound",service="web",route="default",le="\+Inf"\} 3/,
  );
  t.regex(text, /weft_request_duration_ms_sum\{direction="outbound",service="web",route="default"\} 33\.2/);
  t.regex(text, /weft_request_duration_ms_count\{direction="outbound",service="web",route="default"\} 3/);
  const closed = m.tcpConnection("inbound");
  t.regex(m.render(), /weft_tcp_active_connections\{direction="inbound"\} 1/);
  closed();
  closed();
  m.tcpBytes("inbound", 10, 20);
  t.regex(m.render(), /weft_tcp_active_connections\{direction="inbound"\} 0/);
  t.regex(m.render(), /weft_tcp_received_bytes_total\{direction="inbound"\} 10/);
  t.regex(m.render(), /weft_tcp_sent_bytes_total\{direction="inbound"\} 20/);
});

test("a running sidecar exports the config versions it holds and the responses it refused", async (t) => {
  const h = await startHarness(t);
  await h.configure([{ name: "web", virtual_ip: "10.96.0.10", ports: [{ port: 80 }] }], { web: [] });
  const bad = h.cp.pushServices([{ name: "web", virtual_ip: "not-an-ip", ports: [] }], "bad");
  await h.cp.waitFor((r) => r.response_nonce === bad);
  const text = h.sidecar.metrics.render();
  t.regex(text, /weft_config_version\{type="services",version="s\d+"\} 1/);
  t.regex(text, /weft_config_rejections_total\{type="weft.v1.Service"\} 1/);
});

test("the process's own memory and CPU render under prom-client's names", (t) => {
  const m = new Metrics();
  collectProcessMetrics(m);
  const text = m.render();
  const value = (series: string) => Number(new RegExp(`^${series} (\\S+)$`, "m").exec(text)?.[1]);
  t.regex(text, /# TYPE process_cpu_user_seconds_total counter/);
  t.true(value("process_resident_memory_bytes\\{\\}") > 10 * 1024 * 1024);
  t.true(value("process_cpu_user_seconds_total\\{\\}") > 0);
  t.true(value("nodejs_heap_size_used_bytes\\{\\}") > 0);
  t.true(value('nodejs_heap_space_size_used_bytes\\{space="old"\\}') > 0);
  t.true(value('nodejs_heap_space_size_total_bytes\\{space="new"\\}') > 0);
});

// Serial: the file's other tests start sidecars, which block this process's loop for longer.
test.serial(
  "how late the event loop ran since the last scrape renders under prom-client's names",
  async (t) => {
    const m = new Metrics();
    collectProcessMetrics(m);
    m.render(); // starts a fresh interval
    // Block the loop for 120 ms: the histogram's next sample comes about that late.
    await new Promise((r) => setTimeout(r, 50));
    const until = performance.now() + 120;
    while (performance.now() < until);
    await new Promise((r) => setTimeout(r, 60));
    const text = m.render();
    const value = (series: string) => Number(new RegExp(`^${series}\\{\\} (\\S+)$`, "m").exec(text)?.[1]);
    t.regex(text, /# TYPE nodejs_eventloop_lag_p99_seconds gauge/);
    const max = value("nodejs_eventloop_lag_max_seconds");
    t.true(max >= 0.1 && max < 5, `max ${max}`);
    t.true(value("nodejs_eventloop_lag_p50_seconds") < max);
    // The next scrape covers only what came after this one.
    await new Promise((r) => setTimeout(r, 100));
    const after = Number(/^nodejs_eventloop_lag_max_seconds\{\} (\S+)$/m.exec(m.render())?.[1]);
    t.true(after < 0.1, `max after the reset ${after}`);
  },
);
