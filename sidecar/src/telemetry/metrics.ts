// The sidecar's metrics in Prometheus text format (0.0.4): counters, gauges and latency histograms
// kept in plain maps (no client library: it would cost start time and memory for little).
//   weft_requests_total{direction,service,code,route}            HTTP/gRPC requests by outcome
//   weft_request_duration_ms{direction,service,route}            histogram, request start to end
//   weft_tcp_connections_total{direction} / weft_tcp_active_connections{direction}
//   weft_tcp_received_bytes_total / weft_tcp_sent_bytes_total{direction}   opaque TCP bytes
//   weft_config_version{type,version} (1) and weft_config_rejections_total{type}
// The routing layer's (upstream/), per service and endpoint ("address:port"):
//   weft_upstream_requests_total{service,endpoint,outcome}   attempts by status code or
//                                                            connect-failure/reset/timeout/cancelled
//   weft_upstream_retries_total{service,endpoint,reason}     retries, by the failed attempt's outcome
//   weft_upstream_timeouts_total{service,endpoint}           per-try timeouts
//   weft_outlier_ejections_total{service,endpoint} / weft_outlier_ejected{service,endpoint} (1 while out)
//   weft_circuit_breaker_overflows_total{service,kind}       kind: pending-requests | connections
//   weft_retry_budget_exhausted_total{service}               retries not made: budget spent
//   weft_faults_injected_total{service,route,kind}           kind: delay | abort
//   weft_mirror_requests_total{service,endpoint,outcome}     copies for a route's mirror: status class
//                                                            (2xx..5xx), error, or dropped (too many out)
// The inbound side's own:
//   weft_rate_limited_requests_total{service,limit}          requests refused 429 by this instance's rate
//                                                            limit; limit: instance | route PATH
// Mutual TLS between sidecars (identity/):
//   weft_mtls_connections_total{direction,outcome}           inbound: mtls | plaintext | refused-plaintext |
//                                                            handshake-failed | no-certificate;
//                                                            outbound: mtls | plaintext | handshake-failed
//   weft_workload_certificate_expiry_timestamp_seconds       when this sidecar's certificate expires
//   weft_authorization_denied_total{service,caller}          requests and connections its AuthorizationPolicy
//                                                            denied; caller "" for plain text

type Labels = Record<string, string>;
type Kind = "counter" | "gauge" | "histogram";

interface Series {
  labels: Labels;
  value: number;
  /** Histograms: counts per bucket (not cumulative) and the sum. */
  buckets?: number[];
  sum?: number;
}

interface Family {
  help: string;
  kind: Kind;
  series: Map<string, Series>;
}

export type Direction = "inbound" | "outbound";

/** Milliseconds; from sub-millisecond loopback hops to requests that hit a 10 s timeout. */
export const LATENCY_BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export interface RequestSample {
  direction: Direction;
  service: string;
  route: string;
  code: number;
  durationMs: number;
}

/** A request's two series for one direction, service and route: by status code, and its duration. */
interface RouteSeries {
  byCode: Map<number, Series>;
  duration: Series;
}

export class Metrics {
  private families = new Map<string, Family>();
  /** The per-request series, found through nested maps (direction, service, route; code): a request
   * builds no key string and no labels object once its series exist. The same Series objects as in
   * the families. */
  private readonly requestSeries = new Map<string, Map<string, Map<string, RouteSeries>>>();
  /** weft_upstream_requests_total's series by service, endpoint and outcome, likewise. */
  private readonly attemptSeries = new Map<string, Map<string, Map<string, Series>>>();
  /** Called at render time for values owned elsewhere (config versions). */
  private readonly collectors: Array<(m: Metrics) => void> = [];

  constructor() {
    this.family(
      "weft_requests_total",
      "counter",
      "HTTP and gRPC requests proxied, by direction, service, response code and route.",
    );
    this.family(
      "weft_request_duration_ms",
      "histogram",
      "Request duration in milliseconds, first byte in to last byte out.",
    );
    this.family("weft_tcp_connections_total", "counter", "TCP connections accepted, by direction.");
    this.family("weft_tcp_active_connections", "gauge", "TCP connections open now, by direction.");
    this.family(
      "weft_tcp_received_bytes_total",
      "counter",
      "Bytes received from clients on opaque TCP connections.",
    );
    this.family("weft_tcp_sent_bytes_total", "counter", "Bytes sent to clients on opaque TCP connections.");
    this.family(
      "weft_config_version",
      "gauge",
      "The config version held per type (value 1; the version is a label).",
    );
    this.family("weft_config_rejections_total", "counter", "Config responses refused (NACKed), by type.");
    this.family(
      "weft_upstream_requests_total",
      "counter",
      "Attempts sent to endpoints, by outcome (status code, connect-failure, reset, timeout, cancelled).",
    );
    this.family(
      "weft_upstream_retries_total",
      "counter",
      "Retries, by endpoint and the failed attempt's outcome.",
    );
    this.family("weft_upstream_timeouts_total", "counter", "Attempts that hit the per-try timeout.");
    this.family("weft_outlier_ejections_total", "counter", "Endpoints ejected by outlier detection.");
    this.family("weft_outlier_ejected", "gauge", "1 while outlier detection holds the endpoint out.");
    this.family(
      "weft_circuit_breaker_overflows_total",
      "counter",
      "Requests or connections refused by the circuit breaker, by kind.",
    );
    this.family(
      "weft_retry_budget_exhausted_total",
      "counter",
      "Retries not made because the budget was spent.",
    );
    this.family(
      "weft_faults_injected_total",
      "counter",
      "Injected faults (fault injection), by route and kind.",
    );
    this.family(
      "weft_mirror_requests_total",
      "counter",
      "Copies of requests sent for a route's mirror, by how they ended: the answer's status class, error, or dropped.",
    );
    this.family(
      "weft_rate_limited_requests_total",
      "counter",
      "Requests this instance answered 429 because its rate limit was reached, by limit.",
    );
    this.family(
      "weft_mtls_connections_total",
      "counter",
      "Connections between sidecars by direction and how they went: mutual TLS, plain text, refused or failed.",
    );
    this.family(
      "weft_authorization_denied_total",
      "counter",
      'Requests and connections the service\'s AuthorizationPolicy denied, by calling service ("": plain text).',
    );
  }

  authorizationDenied(service: string, caller: string): void {
    this.inc("weft_authorization_denied_total", { service, caller });
  }

  /** A connection to or from another sidecar: mtls, plaintext, or why it was not either. */
  meshConnection(direction: Direction, outcome: string): void {
    this.inc("weft_mtls_connections_total", { direction, outcome });
  }

  /** One attempt to an endpoint ended; outcome is the status code or connect-failure/reset/timeout/cancelled. */
  upstreamRequest(service: string, endpoint: string, outcome: string): void {
    const byEndpoint = nested(nested(this.attemptSeries, service), endpoint);
    let series = byEndpoint.get(outcome);
    if (!series) {
      series = this.seriesOf("weft_upstream_requests_total", { service, endpoint, outcome });
      byEndpoint.set(outcome, series);
    }
    series.value++;
  }

  /** A failed attempt at `endpoint` is tried again; reason is that attempt's outcome. */
  upstreamRetry(service: string, endpoint: string, reason: string): void {
    this.inc("weft_upstream_retries_total", { service, endpoint, reason });
  }

  upstreamTimeout(service: string, endpoint: string): void {
    this.inc("weft_upstream_timeouts_total", { service, endpoint });
  }

  /** Outlier detection took `endpoint` out of rotation. */
  outlierEjected(service: string, endpoint: string): void {
    this.inc("weft_outlier_ejections_total", { service, endpoint });
    this.inc("weft_outlier_ejected", { service, endpoint }, 0);
    this.families.get("weft_outlier_ejected")!.series.get(keyOf({ service, endpoint }))!.value = 1;
  }

  /** The ejection is over (or the endpoint left): its gauge series goes away. */
  outlierReturned(service: string, endpoint: string): void {
    this.families.get("weft_outlier_ejected")?.series.delete(keyOf({ service, endpoint }));
  }

  circuitBreakerOverflow(service: string, kind: "pending-requests" | "connections"): void {
    this.inc("weft_circuit_breaker_overflows_total", { service, kind });
  }

  retryBudgetExhausted(service: string): void {
    this.inc("weft_retry_budget_exhausted_total", { service });
  }

  faultInjected(service: string, route: string, kind: "delay" | "abort"): void {
    this.inc("weft_faults_injected_total", { service, route, kind });
  }

  rateLimited(service: string, limit: string): void {
    this.inc("weft_rate_limited_requests_total", { service, limit });
  }

  mirrorRequest(service: string, endpoint: string, outcome: string): void {
    this.inc("weft_mirror_requests_total", { service, endpoint, outcome });
  }

  /** One HTTP request finished (or failed: code is what the client got). */
  request(s: RequestSample): void {
    const byRoute = nested(nested(this.requestSeries, s.direction), s.service);
    let route = byRoute.get(s.route);
    if (!route) {
      const labels = { direction: s.direction, service: s.service, route: s.route };
      route = { byCode: new Map(), duration: this.seriesOf("weft_request_duration_ms", labels) };
      byRoute.set(s.route, route);
    }
    let byCode = route.byCode.get(s.code);
    if (!byCode) {
      byCode = this.seriesOf("weft_requests_total", {
        direction: s.direction,
        service: s.service,
        code: String(s.code),
        route: s.route,
      });
      route.byCode.set(s.code, byCode);
    }
    byCode.value++;
    observeInto(route.duration, s.durationMs);
  }

  /** One connection accepted on the inbound or outbound listener; returns its "closed" callback. */
  tcpConnection(direction: Direction): () => void {
    this.inc("weft_tcp_connections_total", { direction });
    this.inc("weft_tcp_active_connections", { direction });
    let open = true;
    return () => {
      if (open) this.inc("weft_tcp_active_connections", { direction }, -1);
      open = false;
    };
  }

  tcpBytes(direction: Direction, received: number, sent: number): void {
    this.inc("weft_tcp_received_bytes_total", { direction }, received);
    this.inc("weft_tcp_sent_bytes_total", { direction }, sent);
  }

  /** Declares a family with its type and help text (a family first named by setGauge is a gauge). */
  define(name: string, kind: Kind, help: string): void {
    if (!this.families.has(name)) this.family(name, kind, help);
  }

  /** Registers a function that sets gauges right before each render. */
  collect(collector: (m: Metrics) => void): void {
    this.collectors.push(collector);
  }

  /** Replaces every series of a gauge family. */
  setGauge(name: string, entries: Array<{ labels: Labels; value: number }>): void {
    const family = this.families.get(name) ?? this.family(name, "gauge", name);
    family.series.clear();
    for (const e of entries) family.series.set(keyOf(e.labels), { labels: e.labels, value: e.value });
  }

  inc(name: string, labels: Labels, by = 1): void {
    const family = this.families.get(name) ?? this.family(name, "counter", name);
    const key = keyOf(labels);
    const series = family.series.get(key);
    if (series) series.value += by;
    else family.series.set(key, { labels, value: by });
  }

  observe(name: string, labels: Labels, value: number): void {
    const family = this.families.get(name) ?? this.family(name, "histogram", name);
    observeInto(this.seriesIn(family, labels), value);
  }

  /** The series of a declared family with these labels, made (at 0) on first use. */
  private seriesOf(name: string, labels: Labels): Series {
    return this.seriesIn(this.families.get(name) as Family, labels);
  }

  private seriesIn(family: Family, labels: Labels): Series {
    const key = keyOf(labels);
    let series = family.series.get(key);
    if (!series) {
      series =
        family.kind === "histogram"
          ? { labels, value: 0, sum: 0, buckets: LATENCY_BUCKETS_MS.map(() => 0) }
          : { labels, value: 0 };
      family.series.set(key, series);
    }
    return series;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    for (const c of this.collectors) c(this);
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.kind}`);
      for (const s of family.series.values()) {
        if (family.kind !== "histogram") {
          lines.push(`${name}{${render(s.labels)}} ${s.value}`);
          continue;
        }
        let cumulative = 0;
        LATENCY_BUCKETS_MS.forEach((bound, i) => {
          cumulative += s.buckets?.[i] ?? 0;
          lines.push(`${name}_bucket{${render({ ...s.labels, le: String(bound) })}} ${cumulative}`);
        });
        lines.push(`${name}_bucket{${render({ ...s.labels, le: "+Inf" })}} ${s.value}`);
        lines.push(`${name}_sum{${render(s.labels)}} ${round(s.sum ?? 0)}`);
        lines.push(`${name}_count{${render(s.labels)}} ${s.value}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }

  private family(name: string, kind: Kind, help: string): Family {
    const family: Family = { help, kind, series: new Map() };
    this.families.set(name, family);
    return family;
  }
}

/** The map under `key` in `outer`, made on first use. */
function nested<V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let inner = outer.get(key);
  if (!inner) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

function observeInto(series: Series, value: number): void {
  series.value++;
  series.sum = (series.sum ?? 0) + value;
  const buckets = series.buckets;
  if (!buckets) return;
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) {
    if (value <= (LATENCY_BUCKETS_MS[i] as number)) {
      buckets[i] = (buckets[i] as number) + 1;
      return;
    }
  }
}

/**
 * A series' key: names and values in insertion order, split by control characters no label holds.
 * Runs on every request, so no sorting or JSON: each call site builds its labels in one fixed order.
 */
function keyOf(labels: Labels): string {
  let key = "";
  for (const name in labels) key += `${name}\u0001${labels[name]}\u0002`;
  return key;
}

function render(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",");
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
