// Traffic and observation helpers for tests of the routing layer in a real mesh: mesh config applied
// with `weft apply`, what a sidecar has received (its /config_dump), its Prometheus series, and
// HTTP requests made from inside a workload with busybox (wget for bodies, nc for status and headers).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Mesh } from "./mesh";
import { hex, waitFor } from "./processes";

/** One apiVersion/kind document as `weft apply -f` takes it. */
export interface MeshDocument {
  kind: "Route" | "ResiliencePolicy" | "Service" | "Telemetry" | "AuthorizationPolicy";
  name: string;
  spec: Record<string, unknown>;
}

/** Writes the documents to a JSON file under the mesh's dir and runs `weft apply -f` on it; returns their versions. */
export async function applyDocs(mesh: Mesh, docs: MeshDocument[]): Promise<number[]> {
  const file = join(mesh.dir, `apply-${hex(4)}.json`);
  const body = docs.map((d) => ({
    apiVersion: "weft.dev/v1",
    kind: d.kind,
    metadata: { name: d.name },
    spec: d.spec,
  }));
  writeFileSync(file, JSON.stringify(body, null, 2));
  await mesh.weftOk(["apply", "-f", file]);
  const versions: number[] = [];
  for (const d of docs) {
    const out = JSON.parse(await mesh.weftOk(["get", kindArg(d.kind), d.name, "-o", "json"])) as
      | { metadata: { version: number } }
      | Array<{ metadata: { version: number } }>;
    const obj = Array.isArray(out) ? out[0] : out;
    if (!obj) throw new Error(`weft get ${d.kind} ${d.name} printed nothing after apply`);
    versions.push(obj.metadata.version);
  }
  return versions;
}

function kindArg(kind: MeshDocument["kind"]): string {
  return {
    Route: "route",
    ResiliencePolicy: "resiliencepolicy",
    Service: "service",
    Telemetry: "telemetry",
    AuthorizationPolicy: "authorizationpolicy",
  }[kind];
}

/** The parts of a sidecar's /config_dump these tests look at. */
export interface SidecarDump {
  endpoints: Record<string, Array<{ address: string; labels: Record<string, string>; healthy: boolean }>>;
  routes: Record<string, { routes: Array<{ name: string; version: number }> }>;
  policies: Record<string, { name: string; version: number }>;
}

/** The sidecar's config dump, read from its admin port (loopback of the workload only). */
export async function sidecarDump(mesh: Mesh, container: string): Promise<SidecarDump> {
  const out = await mesh.weftOk([
    "exec",
    container,
    "timeout",
    "10",
    "wget",
    "-q",
    "-O",
    "-",
    "http://127.0.0.1:15000/config_dump",
  ]);
  return JSON.parse(out) as SidecarDump;
}

/** Polls until `container`'s sidecar satisfies `check` (config pushes are asynchronous). */
export async function waitForSidecar(
  mesh: Mesh,
  container: string,
  what: string,
  check: (dump: SidecarDump) => boolean,
): Promise<SidecarDump> {
  return waitFor(
    `${container}'s sidecar to have ${what}`,
    async () => {
      const dump = await sidecarDump(mesh, container);
      return check(dump) ? dump : undefined;
    },
    60_000,
    300,
  );
}

/** A Route or ResiliencePolicy of one service, applied and removed live. */
export interface ServiceConfigDoc extends MeshDocument {
  kind: "Route" | "ResiliencePolicy";
  spec: { service: string } & Record<string, unknown>;
}

/** Applies `doc` and waits until `container`'s sidecar holds that version of it; returns the version. */
export async function applyAndWait(mesh: Mesh, container: string, doc: ServiceConfigDoc): Promise<number> {
  const [version] = await applyDocs(mesh, [doc]);
  if (version === undefined) throw new Error(`no version for ${doc.kind} ${doc.name}`);
  await waitForSidecar(mesh, container, `${doc.kind} ${doc.name} v${version}`, (d) => holds(d, doc, version));
  return version;
}

/** Deletes `doc` (if it is there) and waits until `container`'s sidecar no longer holds it. */
export async function deleteAndWait(mesh: Mesh, container: string, doc: ServiceConfigDoc): Promise<void> {
  await mesh.weftOk(["delete", kindArg(doc.kind), doc.name, "--ignore-not-found"]);
  await waitForSidecar(mesh, container, `no ${doc.kind} ${doc.name}`, (d) => !holds(d, doc));
}

function holds(dump: SidecarDump, doc: ServiceConfigDoc, version?: number): boolean {
  const matches = (o: { name: string; version: number } | undefined) =>
    o !== undefined && o.name === doc.name && (version === undefined || o.version === version);
  if (doc.kind === "ResiliencePolicy") return matches(dump.policies[doc.spec.service]);
  return dump.routes[doc.spec.service]?.routes.some(matches) ?? false;
}

/** Parses Prometheus text exposition into series (name, labels, value). */
export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Series[] {
  const series: Series[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!;
    }
    series.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return series;
}

/** Sum of a metric's series whose labels equal (string) or match (RegExp) the given ones. */
export function metricSum(text: string, name: string, labels: Record<string, string | RegExp> = {}): number {
  let sum = 0;
  for (const s of parseMetrics(text)) {
    if (s.name !== name) continue;
    const ok = Object.entries(labels).every(([k, want]) => {
      const have = s.labels[k];
      if (have === undefined) return false;
      return typeof want === "string" ? have === want : want.test(have);
    });
    if (ok) sum += s.value;
  }
  return sum;
}

/** How much a metric's matching series grew between two scrapes (series are per address, and addresses are reused). */
export function metricDelta(
  before: string,
  after: string,
  name: string,
  labels: Record<string, string | RegExp> = {},
): number {
  return metricSum(after, name, labels) - metricSum(before, name, labels);
}

/** A workload's sidecar metrics, fetched from the host (15090 is left uncaptured for Prometheus). */
export async function metricsOf(mesh: Mesh, container: string): Promise<string> {
  const ip = await addressOf(mesh, container);
  const res = await fetch(`http://${ip}:15090/metrics`);
  if (res.status !== 200) throw new Error(`metrics of ${container}: HTTP ${res.status}`);
  return res.text();
}

export async function addressOf(mesh: Mesh, container: string): Promise<string> {
  const rows = JSON.parse(await mesh.weftOk(["ps", "--json"])) as Array<{ name: string; address: string }>;
  const row = rows.find((r) => r.name === container);
  if (!row?.address) throw new Error(`no address for ${container} in weft ps`);
  return row.address;
}

/**
 * `n` GETs of `url` one after another from inside `container` with busybox wget; one line per
 * request: the body's first line, or "ERR" when wget failed (status >= 400, connection error).
 */
export async function bodiesFrom(mesh: Mesh, container: string, url: string, n: number): Promise<string[]> {
  const script = `for i in $(seq ${n}); do b=$(timeout 10 wget -q -O - '${url}' 2>/dev/null | head -n 1); echo "\${b:-ERR}"; done`;
  const out = await mesh.weftOk(["exec", container, "sh", "-c", script], 300_000);
  return out.split("\n").filter((l) => l !== "");
}

/** One HTTP response as nc saw it. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * `n` GETs of `path` on HOST:PORT from inside `container`, all at once when `concurrent`, else one
 * after another, sent with busybox nc so that error statuses come back with their headers and body.
 * nc half-closes once its input ends, right after the request: the sidecars answer it all the same.
 */
export async function rawRequests(
  mesh: Mesh,
  container: string,
  target: { host: string; port: number; path: string; headers?: Record<string, string> },
  n: number,
  concurrent = false,
): Promise<RawResponse[]> {
  const extra = Object.entries(target.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\\r\\n`)
    .join("");
  const request = `GET ${target.path} HTTP/1.1\\r\\nHost: ${target.host}:${target.port}\\r\\n${extra}Connection: close\\r\\n\\r\\n`;
  const dir = `/tmp/raw-${hex(4)}`;
  const one = `printf '${request}' | timeout 20 nc ${target.host} ${target.port} > ${dir}/$i 2>&1`;
  const loop = concurrent
    ? `for i in $(seq ${n}); do (${one}) & done; wait`
    : `for i in $(seq ${n}); do ${one}; done`;
  const script = `mkdir -p ${dir} && ${loop}; for i in $(seq ${n}); do echo "=== $i"; cat ${dir}/$i; echo; done; rm -rf ${dir}`;
  const out = await mesh.weftOk(["exec", container, "sh", "-c", script], 300_000);
  return out
    .split(/^=== \d+\n/m)
    .slice(1)
    .map(parseResponse);
}

function parseResponse(text: string): RawResponse {
  const normalized = text.replace(/\r\n/g, "\n");
  const split = normalized.indexOf("\n\n");
  const head = split === -1 ? normalized : normalized.slice(0, split);
  const body = split === -1 ? "" : normalized.slice(split + 2).trim();
  const [statusLine = "", ...lines] = head.split("\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const colon = l.indexOf(":");
    if (colon > 0) headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
  }
  return { status, headers, body };
}
