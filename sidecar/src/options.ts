// `weft sidecar` flags (docs/INTERFACES.md "Sidecar") → SidecarOptions, with defaults in one place.
import { readFileSync } from "node:fs";
import { isIPv4 } from "node:net";
import { keyValues, parseFlags, UsageError } from "../../cli/index";
import { PROTOCOLS, type Protocol } from "./config/types";
import { ADMIN_PORT, DNS_PORT, HEALTH_PORT, INBOUND_PORT, METRICS_PORT, OUTBOUND_PORT } from "./ports";

export interface SidecarPorts {
  outbound: number;
  inbound: number;
  admin: number;
  health: number;
  metrics: number;
  dns: number;
}

export interface SidecarOptions {
  /** gRPC target of the control plane: "unix:///run/weft/cp.sock" or "host:port". */
  controlPlane: string;
  /** The control plane's --token, from WEFT_TOKEN (never a flag: argv is every user's to read). */
  token?: string;
  /** Unique per sidecar. Default: the workload name. */
  nodeId: string;
  workload: string;
  /** The workload's IP. Default "" (unknown). */
  address: string;
  /** The service the workload belongs to. Default "". */
  service: string;
  /** The app's declared ports and their protocols. Default none (all TCP). */
  ports: Map<number, Protocol>;
  labels: Record<string, string>;
  /** Where non-mesh DNS names go. Default none (NXDOMAIN). */
  upstreamDns?: string;
  /** Suffixes stripped from DNS names. Default: the search list of /etc/resolv.conf. */
  dnsSearch: string[];
  /** How long an "auto" port waits for the client's first bytes before piping TCP. Default 100 ms. */
  detectTimeoutMs?: number;
  /** Request headers must arrive within this. Default 10000 ms. */
  headerTimeoutMs?: number;
  /** A connection with no bytes either way is closed after this. Default 300000 ms. */
  idleTimeoutMs?: number;
  /** How long POST /drain lets in-flight requests finish. Default 5000 ms. */
  drainTimeoutMs?: number;
  /** Port 0 picks a free port (tests). Defaults: the fixed ports of ports.ts. */
  listen: SidecarPorts;
}

export const SIDECAR_USAGE = `Usage: weft sidecar --control-plane ADDR --workload NAME [flags]

Runs the proxy inside a workload's network namespace (as uid 1337).
  --control-plane ADDR   control plane gRPC: unix:///path or host:port (required)
  --workload NAME        the workload (container) name, used in Via headers (required)
  --node-id ID           unique id of this sidecar (default: the workload name)
  --address IP           the workload IP
  --service S            the service the workload belongs to
  --port PORT[/PROTO]    a port the app serves (repeatable); PROTO: auto (default: detect),
                         http, http2, grpc, tcp, server-first (tcp and server-first never wait)
  --label K=V            workload label (repeatable)
  --dns-upstream IP[:PORT]  where names outside the mesh are resolved (alias --upstream-dns);
                         the workload's netns cannot reach the host's 127.0.0.1: pass an address
                         it can reach (the bridge gateway where the daemon forwards DNS)
  --detect-timeout-ms N  protocol detection wait on auto ports (default 100, as Istio)
  --header-timeout-ms N  request headers must arrive within N ms (default 10000)
  --idle-timeout-ms N    close connections idle for N ms (default 300000)
  --dns-search DOMAIN    search domain stripped from names (repeatable; default from /etc/resolv.conf)
  --outbound-port 15001 --inbound-port 15006 --admin-port 15000
  --health-port 15021 --metrics-port 15090 --dns-port 15053

Environment:
  WEFT_TOKEN             the control plane's --token, sent with certificate requests`;

const FLAGS = {
  "control-plane": { type: "string" },
  "node-id": { type: "string" },
  workload: { type: "string" },
  address: { type: "string" },
  service: { type: "string" },
  port: { type: "string", multiple: true },
  label: { type: "string", multiple: true },
  "upstream-dns": { type: "string" },
  "dns-upstream": { type: "string" },
  "detect-timeout-ms": { type: "string" },
  "header-timeout-ms": { type: "string" },
  "idle-timeout-ms": { type: "string" },
  "dns-search": { type: "string", multiple: true },
  "outbound-port": { type: "string" },
  "inbound-port": { type: "string" },
  "admin-port": { type: "string" },
  "health-port": { type: "string" },
  "metrics-port": { type: "string" },
  "dns-port": { type: "string" },
} as const;

export function parseSidecarFlags(argv: string[]): SidecarOptions {
  const { values: v, positionals } = parseFlags(argv, FLAGS);
  // parseArgs leaves a repeatable flag undefined when it is absent.
  const portSpecs = v.port ?? [];
  const labelSpecs = v.label ?? [];
  const searchSpecs = v["dns-search"] ?? [];
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!v["control-plane"])
    throw new UsageError("--control-plane is required (e.g. unix:///run/weft/cp.sock)");
  if (!v.workload) throw new UsageError("--workload is required");
  if (v.address && !isIPv4(v.address))
    throw new UsageError(`--address "${v.address}" is not an IPv4 address`);
  const ports = new Map<number, Protocol>();
  for (const spec of portSpecs) {
    const m = /^(\d+)(?:\/([a-z0-9-]+))?$/i.exec(spec);
    const port = Number(m?.[1]);
    const protocol = (m?.[2]?.toLowerCase() ?? "auto") as Protocol;
    if (!m || port < 1 || port > 65535 || !PROTOCOLS.includes(protocol))
      throw new UsageError(`--port expects PORT or PORT/PROTO (${PROTOCOLS.join(", ")}), got "${spec}"`);
    ports.set(port, protocol);
  }
  const listenPort = (flag: keyof typeof FLAGS, fallback: number): number => {
    const text = v[flag] as string | undefined;
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > 65535)
      throw new UsageError(`--${flag} expects a port (0-65535), got "${text}"`);
    return n;
  };
  const millis = (flag: keyof typeof FLAGS, fallback: number): number => {
    const text = v[flag] as string | undefined;
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text) || Number(text) < 1)
      throw new UsageError(`--${flag} expects milliseconds (a positive integer), got "${text}"`);
    return Number(text);
  };
  return {
    controlPlane: v["control-plane"],
    token: process.env.WEFT_TOKEN || undefined,
    nodeId: v["node-id"] ?? v.workload,
    workload: v.workload,
    address: v.address ?? "",
    service: v.service ?? "",
    ports,
    labels: keyValues("--label", labelSpecs),
    upstreamDns: v["dns-upstream"] ?? v["upstream-dns"],
    detectTimeoutMs: millis("detect-timeout-ms", 100),
    headerTimeoutMs: millis("header-timeout-ms", 10_000),
    idleTimeoutMs: millis("idle-timeout-ms", 300_000),
    dnsSearch: searchSpecs.length > 0 ? searchSpecs : resolvConfSearch(),
    listen: {
      outbound: listenPort("outbound-port", OUTBOUND_PORT),
      inbound: listenPort("inbound-port", INBOUND_PORT),
      admin: listenPort("admin-port", ADMIN_PORT),
      health: listenPort("health-port", HEALTH_PORT),
      metrics: listenPort("metrics-port", METRICS_PORT),
      dns: listenPort("dns-port", DNS_PORT),
    },
  };
}

/** The `search` domains of /etc/resolv.conf (none when unreadable). */
export function resolvConfSearch(text?: string): string[] {
  let content = text;
  if (content === undefined) {
    try {
      content = readFileSync("/etc/resolv.conf", "utf8");
    } catch {
      return [];
    }
  }
  const domains: string[] = [];
  for (const line of content.split("\n")) {
    const [word, ...rest] = line.trim().split(/\s+/);
    if (word === "search" || word === "domain")
      domains.push(...rest.map((d) => d.toLowerCase().replace(/\.$/, "")));
  }
  return [...new Set(domains)].filter((d) => d && d !== ".");
}
