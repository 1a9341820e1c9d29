// Weft's dashboard: a small single-page app over the control plane's REST API (/api/v1). No build
// step and no framework; every value from the API is put into the page as text (never as HTML),
// because log lines and span attributes are whatever workloads sent.

const view = document.getElementById("view");
const statusLine = document.getElementById("status");
let refreshTimer;

/** el("td", {class: "num"}, "text", child, ...) */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Number.POSITIVE_INFINITY)) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function svgEl(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat(Number.POSITIVE_INFINITY))
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

async function api(path) {
  const res = await fetch(path, { headers: { accept: "application/json" } });
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { error: text };
  }
  if (!res.ok) throw new Error(body.error || body.message || `${res.status} ${res.statusText}`);
  return body;
}

/** The same request, but a missing endpoint (an older control plane) gives the fallback. */
async function apiOr(path, fallback) {
  try {
    return await api(path);
  } catch (err) {
    if (/no route/.test(String(err.message))) return fallback;
    throw err;
  }
}

const fmt = {
  ms(v) {
    if (v === undefined || v === null || Number.isNaN(v)) return "–";
    if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
    if (v >= 10) return `${Math.round(v)} ms`;
    if (v < 1) return `${Math.round(v * 1000)} µs`;
    return `${v.toFixed(1)} ms`;
  },
  rate(v) {
    if (v === undefined || v === null) return "–";
    return v >= 10 ? `${Math.round(v)}/s` : `${v.toFixed(2)}/s`;
  },
  pct(v) {
    if (v === undefined || v === null) return "–";
    return `${(v * 100).toFixed(v > 0 && v < 0.01 ? 2 : 1)}%`;
  },
  time(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    return Number.isNaN(d.getTime())
      ? iso
      : d.toLocaleTimeString(undefined, { hour12: false }) +
          "." +
          String(d.getMilliseconds()).padStart(3, "0");
  },
  ago(iso) {
    const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (s < 60) return `${Math.round(s)}s ago`;
    if (s < 3600) return `${Math.round(s / 60)}m ago`;
    return `${Math.round(s / 3600)}h ago`;
  },
  /** "expires in 23h" / "expires in 42m", as `weft proxy-status` prints a certificate's expiry. */
  expiresIn(iso) {
    const minutes = Math.max(0, Math.floor((new Date(iso).getTime() - Date.now()) / 60000));
    return minutes >= 120 ? `expires in ${Math.floor(minutes / 60)}h` : `expires in ${minutes}m`;
  },
  shortId(id) {
    return id ? id.slice(0, 16) : "";
  },
};

function errorClass(rate) {
  if (!rate) return "ok";
  return rate >= 0.05 ? "err" : "warn";
}

/** #/traces?service=a -> {path: ["traces"], query: URLSearchParams} */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "") || "services";
  const [path, query] = raw.split("?");
  return {
    path: path.split("/").filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(query || ""),
  };
}

function go(hash) {
  location.hash = hash;
}

function table(headers, rows, onRow) {
  return el(
    "table",
    {},
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        headers.map((h) => el("th", { class: h.num ? "num" : undefined }, h.label ?? h)),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map((r) =>
        el(
          "tr",
          {
            class: onRow ? "clickable" : undefined,
            onclick: onRow ? () => onRow(r.data) : undefined,
            "data-row": r.key,
          },
          r.cells.map((c, i) => el("td", { class: headers[i].num ? "num" : undefined }, c)),
        ),
      ),
    ),
  );
}

function empty(message) {
  return el("div", { class: "empty" }, message);
}

function setView(...children) {
  view.replaceChildren(...children);
}

function showError(err) {
  setView(
    el("h1", {}, "Something went wrong"),
    el("p", { class: "err", "data-testid": "error" }, String(err.message || err)),
  );
}

// ---- pages ----------------------------------------------------------------------------------

async function servicesPage() {
  const [services, graph] = await Promise.all([
    api("/api/v1/services"),
    apiOr("/api/v1/graph?since=15m", { nodes: [], edges: [] }),
  ]);
  const stats = new Map(graph.nodes.map((n) => [n.service, n]));
  const rows = services.map((s) => {
    const n = stats.get(s.name) || {};
    const health =
      s.endpoints === 0
        ? el("span", { class: "pill warn" }, "no endpoints")
        : el(
            "span",
            {
              class: `pill ${s.healthyEndpoints === s.endpoints ? "ok" : s.healthyEndpoints === 0 ? "err" : "warn"}`,
            },
            `${s.healthyEndpoints}/${s.endpoints} healthy`,
          );
    return {
      key: s.name,
      data: s,
      cells: [
        el("a", { href: `#/services/${encodeURIComponent(s.name)}` }, s.name),
        s.virtualIp,
        s.ports.map((p) => `${p.port}/${p.protocol}`).join(", "),
        health,
        fmt.rate(n.requestRate),
        el("span", { class: errorClass(n.errorRate) }, fmt.pct(n.errorRate)),
        fmt.ms(n.p50Ms),
        fmt.ms(n.p95Ms),
        fmt.ms(n.p99Ms),
      ],
    };
  });
  setView(
    el("h1", {}, "Services"),
    el(
      "p",
      { class: "muted" },
      "Request rate, errors and latency over the last 15 minutes, from the spans the sidecars send.",
    ),
    rows.length === 0
      ? empty("No services registered yet.")
      : table(
          [
            "Service",
            "Virtual IP",
            "Ports",
            "Health",
            { label: "Requests", num: true },
            { label: "Errors", num: true },
            { label: "p50", num: true },
            { label: "p95", num: true },
            { label: "p99", num: true },
          ],
          rows,
          (s) => go(`#/services/${encodeURIComponent(s.name)}`),
        ),
  );
}

/** Requests, errors, p50 and p99: a call edge's or an endpoint's. */
const STATS_HEADERS = [
  { label: "Requests", num: true },
  { label: "Errors", num: true },
  { label: "p50", num: true },
  { label: "p99", num: true },
];

/** STATS_HEADERS' cells; "–" for an endpoint none of whose spans were seen. */
function statsCells(s) {
  if (!s) return ["–", "–", "–", "–"];
  return [
    fmt.rate(s.requestRate),
    el("span", { class: errorClass(s.errorRate) }, fmt.pct(s.errorRate)),
    fmt.ms(s.p50Ms),
    fmt.ms(s.p99Ms),
  ];
}

/** "{version=v2}" */
function labelText(labels) {
  return `{${Object.entries(labels || {})
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}}`;
}

function matchText(m) {
  if (!m) return "every request";
  const parts = [];
  if (m.method) parts.push(m.method);
  if (m.pathExact) parts.push(`path = ${m.pathExact}`);
  if (m.pathPrefix) parts.push(`path ${m.pathPrefix}*`);
  for (const [k, v] of Object.entries(m.headers || {})) parts.push(`${k}: ${v}`);
  return parts.join(", ") || "every request";
}

/** A rule's split as shares; a subset no endpoint has is marked (its share goes to the others). */
function splitCell(split, endpoints) {
  if (!split || split.length === 0) return "all endpoints";
  const total = split.reduce((sum, s) => sum + s.weight, 0) || 1;
  return el(
    "span",
    {},
    ...split.flatMap((s, i) => {
      const live = endpoints.some((e) => Object.entries(s.labels).every(([k, v]) => e.labels?.[k] === v));
      return [
        i > 0 ? " · " : "",
        el(
          "span",
          live
            ? {}
            : {
                class: "err",
                "data-testid": "subset-empty",
                title: "No endpoint has these labels now: its share goes to the other subsets.",
              },
          `${labelText(s.labels)} ${Math.round((1000 * s.weight) / total) / 10}%${live ? "" : " (no endpoint)"}`,
        ),
      ];
    }),
  );
}

function retriesText(r) {
  if (!r?.attempts) return "–";
  const on = [...(r.retryOnStatus || []), ...(r.retryOnConnectFailure ? ["connect failure"] : [])];
  const budget = r.budgetRatio !== undefined ? `, budget ${Math.round(r.budgetRatio * 100)}%` : "";
  const perTry = r.perTryTimeoutMs ? `, ${r.perTryTimeoutMs} ms each` : "";
  return `${r.attempts} on ${on.join(", ") || "the defaults"}${perTry}${budget}`;
}

function faultText(f) {
  if (!f) return "–";
  const parts = [];
  if (f.abortRatio) parts.push(`abort ${Math.round(f.abortRatio * 100)}% with ${f.abortStatus}`);
  if (f.delayRatio) parts.push(`delay ${Math.round(f.delayRatio * 100)}% by ${f.delayMs} ms`);
  return parts.join(", ");
}

/** "request: x-a=1, +x-b=2, -x-c" */
function headersText(h) {
  if (!h) return "–";
  const ops = (o) => [
    ...Object.entries(o.set || {}).map(([k, v]) => `${k}=${v}`),
    ...Object.entries(o.add || {}).map(([k, v]) => `+${k}=${v}`),
    ...(o.remove || []).map((k) => `-${k}`),
  ];
  return [
    h.request && `request: ${ops(h.request).join(", ")}`,
    h.response && `response: ${ops(h.response).join(", ")}`,
  ]
    .filter(Boolean)
    .join("; ");
}

/** A rule's rewrite or redirect: "prefix → / · host reviews.internal", "redirect 301: path /new" */
function rewriteText(rule) {
  const parts = (r) =>
    [
      r.scheme && `${r.scheme}:`,
      r.path && `path ${r.path}`,
      r.pathPrefix && `prefix → ${r.pathPrefix}`,
      r.authority && `host ${r.authority}`,
    ]
      .filter(Boolean)
      .join(" · ");
  if (rule.redirect) return `redirect ${rule.redirect.status ?? 301}: ${parts(rule.redirect)}`;
  const mirror = rule.mirror
    ? `mirror to ${labelText(rule.mirror.labels)} (${Math.round((rule.mirror.ratio ?? 1) * 1000) / 10}%)`
    : "";
  return [rule.rewrite ? parts(rule.rewrite) : "", mirror].filter(Boolean).join(" · ") || "–";
}

/** The Routes, ResiliencePolicy and Telemetry in force for a service, as `weft get` shows them. */
function trafficConfig(name, endpoints, routes, policies, telemetries) {
  const mine = routes.filter((r) => r.spec.service === name);
  const policy = policies.find((p) => p.spec.service === name);
  const telemetry =
    telemetries.find((o) => o.spec.service === name) ||
    telemetries.find((o) => o.metadata.name === "default");
  const rows = mine.flatMap((r) =>
    r.spec.rules.map((rule, i) => ({
      key: `${r.metadata.name}/${i}`,
      data: rule,
      cells: [
        i === 0 ? el("span", { title: `config version ${r.metadata.version}` }, r.metadata.name) : "",
        matchText(rule.match),
        splitCell(rule.split, endpoints),
        rule.timeoutMs ? `${rule.timeoutMs} ms` : "default",
        retriesText(rule.retries),
        faultText(rule.fault),
        headersText(rule.headers),
        rewriteText(rule),
      ],
    })),
  );
  const lb = balancerText(policy?.spec);
  const tracing = telemetry?.spec.tracing;
  const logging = telemetry?.spec.logging;
  const telemetryText = telemetry
    ? `tracing ${tracing?.enabled === false ? "off" : `${Math.round((tracing?.samplingRatio ?? 1) * 100)}%`} · access log ${logging?.accessLog === false ? "off" : "on"} · level ${logging?.level || "info"} (Telemetry "${telemetry.metadata.name}")`
    : "tracing 100% · access log on (the defaults: no Telemetry applied)";
  return [
    el("h2", {}, "Traffic config"),
    el(
      "p",
      { class: "muted", "data-testid": "policy-line" },
      `Load balancing: ${lb}${policy ? ` (ResiliencePolicy "${policy.metadata.name}")` : ""}${rateLimitText(policy?.spec)} · ${telemetryText}`,
    ),
    rows.length === 0
      ? empty(
          "No Route: every request goes to every endpoint, with the sidecar's default timeout and retries.",
        )
      : table(
          [
            "Route",
            "Match",
            "Split",
            "Timeout",
            "Retries",
            "Fault",
            "Headers",
            "Rewrite / redirect / mirror",
          ],
          rows,
        ),
  ];
}

/** The service's identity, its mutual TLS mode and who its AuthorizationPolicy lets call it. */
function securityConfig(name, ca, configServices, authorizations) {
  const own = configServices.find((s) => s.metadata.name === name)?.spec.mtls;
  const mode = own ?? ca?.defaultMtlsMode ?? "PERMISSIVE";
  const meaning = {
    PERMISSIVE: "sidecars call it over mutual TLS; plain text from outside the mesh is still taken",
    STRICT: "only mutual TLS from other sidecars; plain text is refused",
    DISABLE: "callers send plain text",
  }[mode];
  const authz = authorizations.find((a) => a.spec.service === name);
  const who = (r) => (r.from?.length ? r.from.join(", ") : "anyone (plain text too)");
  const what = (r) =>
    [r.methods?.join(", "), r.pathExact ?? (r.pathPrefix ? `${r.pathPrefix}*` : "")]
      .filter(Boolean)
      .join(" ") || "everything";
  return [
    el("h2", {}, "Security"),
    el(
      "p",
      { class: "muted", "data-testid": "security-line" },
      `Identity ${ca ? `spiffe://${ca.trustDomain}/ns/default/svc/${name}` : "(no CA)"} · mutual TLS ${mode}${own ? ` (Service "${name}")` : " (mesh default)"}: ${meaning}`,
    ),
    authz
      ? table(
          [`AuthorizationPolicy "${authz.metadata.name}"`, "Callers", "Requests"],
          [
            ...authz.spec.rules.map((r, i) => ({
              key: `rule-${i}`,
              data: r,
              cells: [
                el("span", { class: `pill ${r.action === "ALLOW" ? "ok" : "err"}` }, r.action),
                who(r),
                what(r),
              ],
            })),
            {
              key: "default",
              data: {},
              cells: [authz.spec.defaultAction ?? "DENY", "anyone else", "everything else"],
            },
          ],
        )
      : empty("No AuthorizationPolicy: any caller may call it."),
  ];
}

/** A ResiliencePolicy's rate limit, per instance: " · rate limit 100/s (burst 200), /api*: 10/s". */
function rateLimitText(spec) {
  const r = spec?.rateLimit;
  if (!r) return "";
  const rate = (rps, burst) =>
    rps === 0 ? "not limited" : `${rps}/s${burst && burst !== rps ? ` (burst ${burst})` : ""}`;
  const parts = r.requestsPerSecond ? [`${rate(r.requestsPerSecond, r.burst)} per instance`] : [];
  for (const route of r.routes ?? [])
    parts.push(
      `${route.method ? `${route.method} ` : ""}${route.pathExact ?? `${route.pathPrefix}*`}: ${rate(route.requestsPerSecond, route.burst)}`,
    );
  return ` · rate limit ${parts.join(", ")}`;
}

/** How a ResiliencePolicy balances: what its consistent hash reads, or the balancer's name. */
function balancerText(spec) {
  const hash = spec?.consistentHash;
  if (hash) {
    const key = hash.httpHeaderName
      ? `header ${hash.httpHeaderName}`
      : hash.httpCookieName
        ? `cookie ${hash.httpCookieName}`
        : hash.httpQueryParameterName
          ? `query parameter ${hash.httpQueryParameterName}`
          : "source address";
    const g = hash.httpCookieName && hash.generateCookie;
    const set = g
      ? `, set when missing (${g.ttlSeconds ? `for ${g.ttlSeconds} s` : "session cookie"}, path ${g.path || "/"})`
      : "";
    return `consistent hash on ${key}${set}`;
  }
  return spec?.loadBalancer === "round_robin" ? "round robin" : "least request (P2C, peak EWMA)";
}

async function servicePage(name) {
  const [service, endpoints, traces, graph, served, routes, policies, telemetries, security] =
    await Promise.all([
      api(`/api/v1/services/${encodeURIComponent(name)}`),
      api(`/api/v1/services/${encodeURIComponent(name)}/endpoints`),
      apiOr(`/api/v1/traces?service=${encodeURIComponent(name)}&limit=20&since=1h`, { traces: [] }),
      apiOr("/api/v1/graph?since=15m", { nodes: [], edges: [] }),
      // The last minute, as Linkerd's stat: a canary's weights moved by `weft apply` show at once, and
      // a replica that just started is not averaged over minutes it did not exist.
      apiOr(`/api/v1/services/${encodeURIComponent(name)}/instances?since=1m`, { instances: [] }),
      apiOr("/api/v1/config/routes", []),
      apiOr("/api/v1/config/resiliencepolicies", []),
      apiOr("/api/v1/config/telemetries", []),
      Promise.all([
        apiOr("/api/v1/ca", undefined),
        apiOr("/api/v1/config/services", []),
        apiOr("/api/v1/config/authorizationpolicies", []),
      ]),
    ]);
  // What each endpoint served, by the workload (or instance id) its sidecar's spans name.
  const servedBy = (e) =>
    served.instances.find(
      (i) => (e.workload && (i.workload === e.workload || i.instance === e.workload)) || i.instance === e.id,
    );
  const calls = graph.edges.filter((e) => e.source === name);
  const callers = graph.edges.filter((e) => e.target === name);
  const edgeRows = (edges, other) =>
    edges.map((e) => ({
      key: e[other],
      data: e,
      cells: [el("a", { href: `#/services/${encodeURIComponent(e[other])}` }, e[other]), ...statsCells(e)],
    }));
  const edgeHeaders = (who) => [who, ...STATS_HEADERS];
  setView(
    el("h1", {}, `Service ${service.name}`),
    el(
      "p",
      {},
      `Virtual IP ${service.virtualIp} · ports ${service.ports.map((p) => `${p.port}/${p.protocol}`).join(", ") || "none"} · `,
      el("a", { href: `#/logs?service=${encodeURIComponent(name)}` }, "logs"),
      " · ",
      el("a", { href: `#/traces?service=${encodeURIComponent(name)}` }, "traces"),
    ),
    el("h2", {}, "Endpoints"),
    el(
      "p",
      { class: "muted" },
      "Requests each endpoint served in the last minute, from its sidecar's spans.",
    ),
    endpoints.length === 0
      ? empty("No endpoints.")
      : table(
          ["Workload", "Address", "Ports", "Node", "Source", "Health", ...STATS_HEADERS],
          endpoints.map((e) => ({
            key: e.id,
            data: e,
            cells: [
              // Its logs: the runtime ships a container's output under its name, as the sidecar its access lines.
              e.workload
                ? el(
                    "a",
                    {
                      href: `#/logs?container=${encodeURIComponent(e.workload)}`,
                      "data-testid": "endpoint-logs",
                    },
                    e.workload,
                  )
                : e.id,
              e.address,
              (e.ports || []).map((p) => `${p.port}/${p.protocol}`).join(", "),
              e.node || "",
              e.source || "",
              el("span", { class: `pill ${e.healthy ? "ok" : "err"}` }, e.healthy ? "healthy" : "unhealthy"),
              ...statsCells(servedBy(e)),
            ],
          })),
        ),
    ...trafficConfig(name, endpoints, routes, policies, telemetries),
    ...securityConfig(name, ...security),
    el("h2", {}, "Calls"),
    calls.length === 0
      ? empty("No outgoing calls seen.")
      : table(edgeHeaders("To"), edgeRows(calls, "target")),
    el("h2", {}, "Callers"),
    callers.length === 0
      ? empty("No incoming calls seen.")
      : table(edgeHeaders("From"), edgeRows(callers, "source")),
    el("h2", {}, "Recent traces"),
    traceTable(traces.traces),
  );
}

function graphLayout(graph) {
  const names = new Set(graph.nodes.map((n) => n.service));
  for (const e of graph.edges) {
    names.add(e.source);
    names.add(e.target);
  }
  const incoming = new Map([...names].map((n) => [n, 0]));
  for (const e of graph.edges) if (e.source !== e.target) incoming.set(e.target, incoming.get(e.target) + 1);
  // Depth by longest path from a root (cycles are cut by the visit limit).
  const depth = new Map([...names].map((n) => [n, 0]));
  for (let round = 0; round < names.size; round++) {
    let changed = false;
    for (const e of graph.edges) {
      if (e.source === e.target) continue;
      const d = depth.get(e.source) + 1;
      if (d > depth.get(e.target) && d < names.size) {
        depth.set(e.target, d);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const columns = [];
  for (const n of [...names].sort()) {
    const d = depth.get(n);
    if (!columns[d]) columns[d] = [];
    columns[d].push(n);
  }
  const pos = new Map();
  const colWidth = 330,
    rowHeight = 90,
    boxW = 150,
    boxH = 46;
  columns.forEach((col, c) => {
    col.forEach((n, r) => {
      pos.set(n, { x: 30 + c * colWidth, y: 30 + r * rowHeight });
    });
  });
  const height = 60 + Math.max(1, ...columns.map((c) => c.length)) * rowHeight;
  return { pos, boxW, boxH, width: 60 + columns.length * colWidth, height };
}

async function graphPage() {
  const graph = await api("/api/v1/graph?since=15m");
  if (graph.nodes.length === 0 && graph.edges.length === 0) {
    setView(el("h1", {}, "Service graph"), empty("No traffic seen in the last 15 minutes."));
    return;
  }
  const { pos, boxW, boxH, width, height } = graphLayout(graph);
  const stats = new Map(graph.nodes.map((n) => [n.service, n]));
  const edges = graph.edges.map((e) => {
    const a = pos.get(e.source),
      b = pos.get(e.target);
    const x1 = a.x + boxW,
      y1 = a.y + boxH / 2,
      x2 = b.x,
      y2 = b.y + boxH / 2;
    const mx = (x1 + x2) / 2;
    const d =
      e.source === e.target
        ? `M${a.x + boxW / 2},${a.y} c 40,-40 80,0 ${boxW / 2 - 10},${boxH / 2}`
        : `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 6},${y2}`;
    return svgEl(
      "g",
      { class: `edge${e.errorRate >= 0.05 ? " bad" : ""}`, "data-edge": `${e.source}->${e.target}` },
      svgEl("path", { d, "marker-end": "url(#arrow)" }),
      svgEl(
        "text",
        { x: mx, y: (y1 + y2) / 2 - 8, "text-anchor": "middle" },
        `${fmt.rate(e.requestRate)} · ${fmt.pct(e.errorRate)} · p99 ${fmt.ms(e.p99Ms)}`,
      ),
    );
  });
  const nodes = [...pos.entries()].map(([name, p]) => {
    const n = stats.get(name) || {};
    return svgEl(
      "g",
      {
        class: `node${n.errorRate >= 0.05 ? " bad" : ""}`,
        "data-node": name,
        transform: `translate(${p.x},${p.y})`,
        onclick: () => go(`#/services/${encodeURIComponent(name)}`),
      },
      svgEl("rect", { width: boxW, height: boxH }),
      svgEl("text", { x: 10, y: 19, "font-weight": 600 }, name),
      svgEl(
        "text",
        { x: 10, y: 36, class: "muted" },
        `${fmt.rate(n.requestRate)} · ${fmt.pct(n.errorRate)} err`,
      ),
    );
  });
  const svg = svgEl(
    "svg",
    { class: "graph", viewBox: `0 0 ${width} ${height}`, height },
    svgEl(
      "defs",
      {},
      svgEl(
        "marker",
        {
          id: "arrow",
          viewBox: "0 0 10 10",
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: "auto-start-reverse",
        },
        svgEl("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#9aa7bb" }),
      ),
    ),
    edges,
    nodes,
  );
  setView(
    el("h1", {}, "Service graph"),
    el(
      "p",
      { class: "muted" },
      "Calls between services over the last 15 minutes. Click a service for its details.",
    ),
    svg,
  );
}

function traceTable(traces) {
  if (!traces || traces.length === 0) return empty("No traces match.");
  const longest = Math.max(...traces.map((t) => t.durationMs), 1);
  return table(
    [
      "Trace",
      "Root",
      { label: "Spans", num: true },
      { label: "Errors", num: true },
      "Services",
      "Started",
      { label: "Duration", num: true },
      "",
    ],
    traces.map((t) => ({
      key: t.traceId,
      data: t,
      cells: [
        el("a", { href: `#/traces/${t.traceId}` }, fmt.shortId(t.traceId)),
        t.partial
          ? el(
              "span",
              {
                title:
                  "Spans of some hops are not here: they have not arrived yet (sidecars send theirs within about a second), or the trace began at a caller that does not trace.",
              },
              `${t.rootService}: ${t.rootOperation} `,
              el("span", { class: "pill warn" }, "partial"),
            )
          : `${t.rootService}: ${t.rootOperation}`,
        t.spanCount,
        el("span", { class: t.errorCount ? "err" : "muted" }, t.errorCount),
        (t.services || []).join(", "),
        fmt.time(t.startTime),
        fmt.ms(t.durationMs),
        el(
          "div",
          { class: "bar" },
          el("span", {
            class: t.errorCount ? "err" : undefined,
            style: `left:0;width:${(100 * t.durationMs) / longest}%`,
          }),
        ),
      ],
    })),
    (t) => go(`#/traces/${t.traceId}`),
  );
}

async function tracesPage(query) {
  const [services] = await Promise.all([api("/api/v1/services")]);
  const q = new URLSearchParams(query);
  if (!q.has("since")) q.set("since", "1h");
  if (!q.has("limit")) q.set("limit", "50");
  const form = filterForm(
    "traces",
    q,
    services,
    el(
      "label",
      {},
      "Operation",
      el("input", { name: "operation", value: q.get("operation") || "", placeholder: "GET /api" }),
    ),
    el(
      "label",
      {},
      "Min duration (ms)",
      el("input", { name: "minDurationMs", type: "number", min: 0, value: q.get("minDurationMs") || "" }),
    ),
    el(
      "label",
      {
        title:
          "error: a span of the chosen service (any service: any span) that also matches the operation and duration failed; ok: no such span failed",
      },
      "Status",
      el(
        "select",
        { name: "status" },
        ["", "ok", "error"].map((s) =>
          el("option", { value: s, selected: (q.get("status") || "") === s }, s || "any"),
        ),
      ),
    ),
    el(
      "label",
      {},
      "Since",
      el(
        "select",
        { name: "since" },
        ["5m", "15m", "1h", "6h", "24h"].map((s) =>
          el("option", { value: s, selected: q.get("since") === s }, s),
        ),
      ),
    ),
    el(
      "label",
      {},
      "Limit",
      el("input", { name: "limit", type: "number", min: 1, max: 1000, value: q.get("limit") }),
    ),
    el("button", { type: "submit" }, "Search"),
  );
  const result = await api(`/api/v1/traces?${q}`);
  setView(el("h1", {}, "Traces"), form, traceTable(result.traces));
}

/** A search form whose submit moves to #/PAGE?filters; the service picker comes first. */
function filterForm(page, q, services, ...fields) {
  return el(
    "form",
    {
      class: "filters",
      onsubmit: (ev) => {
        ev.preventDefault();
        const params = new URLSearchParams();
        for (const [k, v] of new FormData(ev.target)) if (v) params.set(k, v);
        go(`#/${page}?${params}`);
      },
    },
    el(
      "label",
      {},
      "Service",
      el(
        "select",
        { name: "service" },
        el("option", { value: "" }, "any"),
        services.map((s) => el("option", { value: s.name, selected: q.get("service") === s.name }, s.name)),
      ),
    ),
    ...fields,
  );
}

function spanTree(spans) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parentSpanId && byId.has(s.parentSpanId)) {
      if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
      children.get(s.parentSpanId).push(s);
    } else roots.push(s);
  }
  const order = [];
  const start = (s) => BigInt(s.startTimeUnixNano || "0");
  const byStart = (a, b) => (start(a) < start(b) ? -1 : start(a) > start(b) ? 1 : 0);
  const walk = (s, depth) => {
    order.push({ span: s, depth });
    for (const c of (children.get(s.spanId) || []).sort(byStart)) walk(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) walk(r, 0);
  return order;
}

async function tracePage(traceId) {
  const trace = await api(`/api/v1/traces/${encodeURIComponent(traceId)}`);
  const rows = spanTree(trace.spans);
  const t0 =
    rows.reduce((m, r) => {
      const v = BigInt(r.span.startTimeUnixNano || "0");
      return m === null || v < m ? v : m;
    }, null) ?? 0n;
  const end = Math.max(
    ...rows.map((r) => Number(BigInt(r.span.startTimeUnixNano || "0") - t0) / 1e6 + r.span.durationMs),
    0.001,
  );
  const detail = el(
    "div",
    { class: "detail", "data-testid": "span-detail" },
    el("span", { class: "muted" }, "Click a span to see its attributes."),
  );
  const showSpan = (s) => {
    const attrs = Object.entries(s.attributes || {});
    detail.replaceChildren(
      el("h2", {}, `${s.service}: ${s.name}`),
      el(
        "dl",
        {},
        [
          ["span id", s.spanId],
          ["parent", s.parentSpanId || "–"],
          ["kind", s.kind],
          ["start", s.startTime],
          ["duration", fmt.ms(s.durationMs)],
          ["status", `${s.status?.code ?? "unset"}${s.status?.message ? `: ${s.status.message}` : ""}`],
          ...attrs.map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
        ].map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]),
      ),
    );
  };
  const wf = table(
    ["Service", "Operation", { label: "Start", num: true }, { label: "Duration", num: true }, "Timeline"],
    rows.map(({ span: s, depth }) => {
      const offset = Number(BigInt(s.startTimeUnixNano || "0") - t0) / 1e6;
      const bad = s.status?.code === "error";
      return {
        key: s.spanId,
        data: s,
        cells: [
          el("span", { style: `padding-left:${depth * 16}px` }, s.service),
          el("span", { class: bad ? "err" : undefined }, s.name),
          fmt.ms(offset),
          fmt.ms(s.durationMs),
          el(
            "div",
            { class: "bar" },
            el("span", {
              class: bad ? "err" : undefined,
              style: `left:${(100 * offset) / end}%;width:${Math.max(0.3, (100 * s.durationMs) / end)}%`,
            }),
          ),
        ],
      };
    }),
    showSpan,
  );
  wf.classList.add("waterfall");
  const services = [...new Set(trace.spans.map((s) => s.service))];
  setView(
    el("h1", {}, `Trace ${trace.traceId}`),
    el(
      "p",
      {},
      `${trace.spans.length} spans across ${services.join(", ")} · ${fmt.ms(end)} · `,
      el(
        "a",
        { href: `#/logs?traceId=${encodeURIComponent(trace.traceId)}`, "data-testid": "trace-logs" },
        "logs of this trace",
      ),
    ),
    wf,
    detail,
  );
  if (rows.length > 0) showSpan(rows[0].span);
}

async function logsPage(query) {
  const q = new URLSearchParams(query);
  if (!q.has("since")) q.set("since", "1h");
  if (!q.has("limit")) q.set("limit", "200");
  const services = await api("/api/v1/services");
  const form = filterForm(
    "logs",
    q,
    services,
    el(
      "label",
      {},
      "Level",
      el(
        "select",
        { name: "level" },
        ["", "debug", "info", "warn", "error"].map((s) =>
          el("option", { value: s, selected: (q.get("level") || "") === s }, s || "any"),
        ),
      ),
    ),
    el(
      "label",
      {},
      "Container",
      el("input", { name: "container", value: q.get("container") || "", placeholder: "any", size: 16 }),
    ),
    el("label", {}, "Text", el("input", { name: "q", value: q.get("q") || "", placeholder: "search" })),
    el("label", {}, "Trace id", el("input", { name: "traceId", value: q.get("traceId") || "", size: 34 })),
    el(
      "label",
      {},
      "Since",
      el(
        "select",
        { name: "since" },
        ["5m", "15m", "1h", "6h", "24h"].map((s) =>
          el("option", { value: s, selected: q.get("since") === s }, s),
        ),
      ),
    ),
    el("button", { type: "submit" }, "Filter"),
  );
  const result = await api(`/api/v1/logs?${q}`);
  const rows = result.logs.map((l, i) => ({
    key: String(i),
    data: l,
    cells: [
      fmt.time(l.time),
      el("a", { href: `#/services/${encodeURIComponent(l.service)}` }, l.service),
      l.container
        ? el(
            "a",
            { class: "nowrap", href: `#/logs?container=${encodeURIComponent(l.container)}` },
            l.container,
          )
        : l.instance || "",
      el("span", { class: l.level === "error" ? "err" : l.level === "warn" ? "warn" : "muted" }, l.level),
      el("pre", { class: "log" }, l.message),
      !l.traceId
        ? ""
        : l.traceStored === false
          ? el(
              "span",
              {
                class: "muted",
                "data-testid": "log-trace-unstored",
                title:
                  "No span of this trace is stored: the request was not sampled (health probes are not), or its spans have not arrived yet.",
              },
              fmt.shortId(l.traceId),
            )
          : el("a", { href: `#/traces/${l.traceId}`, "data-testid": "log-trace" }, fmt.shortId(l.traceId)),
    ],
  }));
  setView(
    el("h1", {}, "Logs"),
    form,
    rows.length === 0
      ? empty("No log lines match.")
      : table(["Time", "Service", "Container", "Level", "Message", "Trace"], rows),
  );
}

async function proxiesPage() {
  const proxies = await api("/api/v1/proxies");
  const rows = proxies.map((p) => {
    const types = Object.entries(p.types || {});
    const nacked = types.some(([, t]) => t.status === "REJECTED");
    const stale = types.some(([, t]) => t.status === "STALE");
    return {
      key: p.nodeId,
      data: p,
      cells: [
        p.workload,
        p.service ? el("a", { href: `#/services/${encodeURIComponent(p.service)}` }, p.service) : "–",
        p.address,
        fmt.ago(p.connectedAt),
        el(
          "span",
          {
            class: `pill ${nacked ? "err" : p.blocked || stale ? "warn" : "ok"}`,
            title: types
              .map(([, t]) => t.reason)
              .filter(Boolean)
              .join("; "),
          },
          nacked ? "rejected config" : p.blocked ? "blocked" : stale ? "stale" : "in sync",
        ),
        p.certificate
          ? el(
              "span",
              { class: "pill ok", title: p.certificate.identity },
              fmt.expiresIn(p.certificate.notAfter),
            )
          : el(
              "span",
              {
                class: "pill warn",
                title: "no workload certificate: it speaks plain text to other sidecars",
              },
              "none",
            ),
        types.map(([name, t]) => `${name.replace(/^.*\./, "")} ${t.ackedVersion || "–"}`).join(", "),
      ],
    };
  });
  setView(
    el("h1", {}, "Sidecars"),
    el(
      "p",
      { class: "muted" },
      "Sidecars connected to this control plane, the config each has acknowledged, and when the " +
        "certificate it speaks mutual TLS with expires (sidecars renew theirs at half its life).",
    ),
    rows.length === 0
      ? empty("No sidecars connected.")
      : table(["Workload", "Service", "Address", "Connected", "Sync", "Certificate", "Config"], rows),
  );
}

// ---- routing --------------------------------------------------------------------------------

// One render at a time, each for the hash at the moment it starts: a page's data arrives
// asynchronously, so an overview's refresh still loading when the user clicked through would
// otherwise put the overview back over the page they went to.
let rendering = Promise.resolve();
let renderQueued = false;
function render() {
  if (renderQueued) return rendering; // the queued one reads location.hash when its turn comes
  renderQueued = true;
  rendering = rendering.then(() => {
    renderQueued = false;
    return renderNow();
  });
  return rendering;
}

async function renderNow() {
  clearTimeout(refreshTimer);
  const hash = location.hash;
  const { path, query } = parseHash();
  const page = path[0];
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.nav === page);
  statusLine.textContent = "loading…";
  try {
    if (page === "services" && path[1]) await servicePage(path[1]);
    else if (page === "services") await servicesPage();
    else if (page === "graph") await graphPage();
    else if (page === "traces" && path[1]) await tracePage(path[1]);
    else if (page === "traces") await tracesPage(query);
    else if (page === "logs") await logsPage(query);
    else if (page === "proxies") await proxiesPage();
    else setView(el("h1", {}, "Not found"), el("p", {}, el("a", { href: "#/services" }, "Back to services")));
    statusLine.textContent = `updated ${new Date().toLocaleTimeString(undefined, { hour12: false })}`;
    document.body.dataset.page = page;
    // Which view is on screen: moving between two views of one page (a filter) keeps data-page.
    document.body.dataset.rendered = hash;
  } catch (err) {
    statusLine.textContent = "";
    showError(err);
  }
  // Overview pages refresh themselves; a trace or a filtered search stays as it is.
  if (["services", "graph", "proxies"].includes(page) && !path[1]) refreshTimer = setTimeout(render, 5000);
}

window.addEventListener("hashchange", render);
render();
