// The routing layer's Prometheus series (telemetry/metrics.ts renders them): each with its type,
// and an ejection gauge that is gone once the endpoint is back.
import test from "ava";
import { Metrics } from "../telemetry/metrics";

test("the upstream series render with their labels; the ejected gauge goes away on return", (t) => {
  const m = new Metrics();
  m.upstreamRequest("web", "10.0.0.1:80", "503");
  m.upstreamRequest("web", "10.0.0.1:80", "connect-failure");
  m.upstreamRetry("web", "10.0.0.1:80", "503");
  m.upstreamTimeout("web", "10.0.0.1:80");
  m.outlierEjected("web", "10.0.0.1:80");
  m.circuitBreakerOverflow("web", "pending-requests");
  m.retryBudgetExhausted("web");
  m.faultInjected("web", "chaos", "delay");
  const text = m.render();
  for (const line of [
    "# TYPE weft_upstream_requests_total counter",
    'weft_upstream_requests_total{service="web",endpoint="10.0.0.1:80",outcome="503"} 1',
    'weft_upstream_requests_total{service="web",endpoint="10.0.0.1:80",outcome="connect-failure"} 1',
    'weft_upstream_retries_total{service="web",endpoint="10.0.0.1:80",reason="503"} 1',
    'weft_upstream_timeouts_total{service="web",endpoint="10.0.0.1:80"} 1',
    'weft_outlier_ejections_total{service="web",endpoint="10.0.0.1:80"} 1',
    "# TYPE weft_outlier_ejected gauge",
    'weft_outlier_ejected{service="web",endpoint="10.0.0.1:80"} 1',
    'weft_circuit_breaker_overflows_total{service="web",kind="pending-requests"} 1',
    'weft_retry_budget_exhausted_total{service="web"} 1',
    'weft_faults_injected_total{service="web",route="chaos",kind="delay"} 1',
  ]) {
    t.true(text.split("\n").includes(line), line);
  }
  m.outlierReturned("web", "10.0.0.1:80");
  t.false(m.render().includes('weft_outlier_ejected{service="web"'));
  m.outlierEjected("web", "10.0.0.1:80");
  t.true(m.render().includes('weft_outlier_ejections_total{service="web",endpoint="10.0.0.1:80"} 2'));
  t.true(m.render().includes('weft_outlier_ejected{service="web",endpoint="10.0.0.1:80"} 1'));
});
