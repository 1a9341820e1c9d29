// The control plane's CLI verbs: `weft control-plane` runs it; `weft services`, `weft endpoints`
// read its HTTP API (`weft proxy-status` lives in cli-proxy-status.ts).

import { type Command, parseFlags, printList, UsageError } from "../../cli/index";
import { isMtlsMode, MTLS_MODES } from "../../proto/mtls-mode";
import { controlPlaneUrl, getJson } from "./api/client";
import type { EndpointView, ServiceSummary } from "./api/rest";
import { proxyStatusCommand } from "./cli-proxy-status";
import type { ServicePort } from "./registry/types";
import { DEFAULTS, startControlPlane } from "./server";
import { TELEMETRY_FLAGS, TELEMETRY_HELP, telemetryOptionsFromFlags } from "./telemetry/cli-flags";
import type {
  GraphNode,
  InstanceStats,
  LatencyStats,
  ServiceGraph,
  ServiceInstances,
} from "./telemetry/query-types";
import { fmtMs } from "./telemetry/waterfall";

function port(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`${flag} expects a port from 0 to 65535 (0 picks a free one), got "${value}"`);
  }
  return Number(value);
}

/** A duration flag ("30s", "2m", "500ms"); `zero` allows 0 (written "0"). */
function duration(flag: string, value: string | undefined, zero = false): number | undefined {
  if (value === undefined) return undefined;
  if (zero && value === "0") return 0;
  const m = /^(\d+)(ms|s|m)$/.exec(value);
  if (!m || Number(m[1]) === 0)
    throw new UsageError(
      `${flag} expects a duration like 30s, 2m or 500ms${zero ? ", or 0" : ""}, got "${value}"`,
    );
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as "ms" | "s" | "m"];
}

/** Consul's DNS port, which Consul tools and `dig -p 8600` expect. */
const CONSUL_DNS_PORT = 8600;

const controlPlane: Command = {
  name: "control-plane",
  summary: "Run the control plane (registry, config push, HTTP and Consul-compatible API)",
  usage: `Usage: weft control-plane [OPTIONS]

Runs until SIGINT or SIGTERM. Prints "control plane ready grpc=... socket=... http=..." once listening.

Options:
  --data-dir D        where the registry database lives (default ${DEFAULTS.dataDir})
  --grpc-port N       gRPC port for registration and config streams (default ${DEFAULTS.grpcPort}; 0 = any)
  --http-port N       HTTP port for the REST and Consul-compatible API (default ${DEFAULTS.httpPort}; 0 = any)
  --grpc-socket PATH  unix socket for gRPC, mode 0666 (default ${DEFAULTS.grpcSocket})
  --listen-host IP    address the TCP ports bind (default ${DEFAULTS.listenHost})
  --service-cidr C    range for service virtual IPs (default ${DEFAULTS.serviceCidr})
  --token T           require "Authorization: Bearer T" on every mutating HTTP request, and on gRPC
                      registration and certificate signing (default $WEFT_TOKEN; none); give daemons
                      the same WEFT_TOKEN
  --source-ttl D      mark a daemon's endpoints unhealthy when it has not synced for D (default 30s;
                      keep it above the daemons' 10 s heartbeat)
  --idle-service-ttl D
                      remove a service that only containers or agent registrations named once it has
                      had no endpoint for D (default 60s; 0 keeps them); services that a Service
                      manifest defines or a Route, policy or Telemetry names stay
  --mtls-mode M       mutual TLS between sidecars for services whose Service does not set spec.mtls:
                      PERMISSIVE (default: sidecars use it, plain text is still accepted), STRICT
                      (sidecars refuse plain text) or DISABLE (sidecars send plain text)
  --trust-domain D    the SPIFFE trust domain of workload identities (default weft.local); the CA's
                      root lives in DATA_DIR/ca (made at first start; put your own there before it)
  --dns-port N        Consul's DNS interface on the listen host, UDP and TCP: NAME.service.consul and
                      the rest (default ${CONSUL_DNS_PORT}, Consul's; 0 = any; when the default is taken, the
                      control plane runs without it and says so)
${TELEMETRY_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      "data-dir": { type: "string" },
      "grpc-port": { type: "string" },
      "http-port": { type: "string" },
      "grpc-socket": { type: "string" },
      "listen-host": { type: "string" },
      "service-cidr": { type: "string" },
      token: { type: "string" },
      "source-ttl": { type: "string" },
      "idle-service-ttl": { type: "string" },
      "mtls-mode": { type: "string" },
      "trust-domain": { type: "string" },
      "dns-port": { type: "string" },
      ...TELEMETRY_FLAGS,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const mtlsMode = values["mtls-mode"]?.toUpperCase();
    if (mtlsMode !== undefined && !isMtlsMode(mtlsMode)) {
      throw new UsageError(
        `--mtls-mode must be one of ${MTLS_MODES.join(", ")}, not "${values["mtls-mode"]}"`,
      );
    }
    const trustDomain = values["trust-domain"];
    if (trustDomain !== undefined && !/^[a-z0-9]([a-z0-9.-]{0,253}[a-z0-9])?$/.test(trustDomain)) {
      throw new UsageError(
        `--trust-domain "${trustDomain}" is not a SPIFFE trust domain (lower-case letters, digits, '.', '-')`,
      );
    }
    const cp = await startControlPlane({
      mtlsMode,
      trustDomain,
      dataDir: values["data-dir"],
      grpcPort: port("--grpc-port", values["grpc-port"], DEFAULTS.grpcPort),
      httpPort: port("--http-port", values["http-port"], DEFAULTS.httpPort),
      grpcSocket: values["grpc-socket"],
      listenHost: values["listen-host"],
      serviceCidr: values["service-cidr"],
      token: values.token ?? process.env.WEFT_TOKEN,
      sourceTtlMs: duration("--source-ttl", values["source-ttl"]),
      idleServiceTtlMs: duration("--idle-service-ttl", values["idle-service-ttl"], true),
      dnsPort: port("--dns-port", values["dns-port"], CONSUL_DNS_PORT),
      // Only a port the user asked for is worth failing over; the default one in use is reported.
      dnsPortBusy: values["dns-port"] === undefined ? "skip" : "fail",
      ...telemetryOptionsFromFlags(values),
    });
    process.stdout.write(
      `control plane ready grpc=${cp.grpcAddress} socket=${cp.socketPath} http=${cp.httpAddress}\n`,
    );
    process.stdout.write(`consul dns=${cp.dnsAddress || "off"}\n`);
    process.stdout.write(
      `telemetry otlp-grpc=${cp.telemetry.otlpGrpcAddress || "off"} otlp-http=${cp.telemetry.otlpHttpAddress || "off"}\n`,
    );
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGINT", () => resolve("SIGINT"));
      process.once("SIGTERM", () => resolve("SIGTERM"));
    });
    process.stderr.write(`control plane: ${signal} received, shutting down\n`);
    await cp.close();
    // Anything still holding the event loop (a client's half-open connection) must not keep us up.
    setTimeout(() => process.exit(0), 1000).unref();
    return 0;
  },
};

const clientFlags = {
  "control-plane": { type: "string" },
  json: { type: "boolean" },
} as const;

const CLIENT_HELP = `  --control-plane URL  the control plane's HTTP API (default $WEFT_CONTROL_PLANE or http://127.0.0.1:15080)
  --json               print JSON instead of a table`;

function formatPorts(ports: ServicePort[]): string {
  return ports.map((p) => `${p.port}/${p.protocol}`).join(",") || "<none>";
}

const services: Command = {
  name: "services",
  summary: "List services in the registry with their virtual IPs, and what each served",
  usage: `Usage: weft services [OPTIONS]

RPS, ERRORS, P50 and P99: the requests each service served in the last minute, as linkerd viz
stat shows them: its endpoints' sidecars' server spans (for a client such as a load generator, the
requests it made); "-" when none were seen.

Options:
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, clientFlags);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const base = controlPlaneUrl(values["control-plane"]);
    const [list, nodes] = await Promise.all([
      getJson<ServiceSummary[]>(base, "/api/v1/services"),
      // The registry answers without the telemetry store: its numbers are extra.
      getJson<ServiceGraph>(base, "/api/v1/graph?since=1m").then(
        (g) => g.nodes,
        () => [] as GraphNode[],
      ),
    ]);
    const rows = list.map((s) => ({ ...s, served: nodes.find((n) => n.service === s.name) ?? null }));
    printList(
      rows,
      values.json,
      ["name", "virtual-ip", "ports", "endpoints", "origin", "rps", "errors", "p50", "p99"],
      (s) => [
        s.name,
        s.virtualIp,
        formatPorts(s.ports),
        `${s.healthyEndpoints}/${s.endpoints}`,
        s.origin,
        ...servedCells(s.served),
      ],
    );
    return 0;
  },
};

/** RPS, ERRORS, P50, P99 of what a service or endpoint served; "-" each when nothing was seen. */
function servedCells(s: (LatencyStats & { requests: number }) | null | undefined): string[] {
  if (!s || s.requests === 0) return ["-", "-", "-", "-"];
  return [s.requestRate.toFixed(2), `${(s.errorRate * 100).toFixed(1)}%`, fmtMs(s.p50Ms), fmtMs(s.p99Ms)];
}

/** The replica among a service's instances that an endpoint is: its sidecar names the workload. */
function servedBy(e: EndpointView, served: InstanceStats[]): InstanceStats | undefined {
  return served.find(
    (i) =>
      (e.workload !== "" && (i.workload === e.workload || i.instance === e.workload)) || i.instance === e.id,
  );
}

const endpoints: Command = {
  name: "endpoints",
  summary: "List the endpoints of a service, with what each served",
  usage: `Usage: weft endpoints NAME [OPTIONS]

RPS, ERRORS, P50 and P99: the requests each endpoint served in the last minute, from its
sidecar's spans ("-" when none were seen).

Options:
${CLIENT_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, clientFlags);
    const [name, extra] = positionals;
    if (!name) throw new UsageError("name the service, e.g. 'weft endpoints reviews'");
    if (extra) throw new UsageError(`unexpected argument "${extra}"`);
    const base = controlPlaneUrl(values["control-plane"]);
    const path = `/api/v1/services/${encodeURIComponent(name)}`;
    const [list, served] = await Promise.all([
      getJson<EndpointView[]>(base, `${path}/endpoints`),
      // The registry answers without the telemetry store: its numbers are extra.
      getJson<ServiceInstances>(base, `${path}/instances?since=1m`).then(
        (r) => r.instances,
        () => [] as InstanceStats[],
      ),
    ]);
    const rows = list.map((e) => ({ ...e, served: servedBy(e, served) ?? null }));
    printList(
      rows,
      values.json,
      ["id", "address", "ports", "status", "workload", "node", "source", "rps", "errors", "p50", "p99"],
      (e) => [
        e.id.slice(0, 12),
        e.address,
        formatPorts(e.ports),
        e.healthy ? "healthy" : "unhealthy",
        e.workload || "-",
        e.node || "-",
        e.source,
        ...servedCells(e.served),
      ],
    );
    return 0;
  },
};

export const controlPlaneCliCommands: Command[] = [controlPlane, services, endpoints, proxyStatusCommand];
