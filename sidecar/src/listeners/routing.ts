// What the listeners share: the config they route by, the routing layer, the proxies, and the checks
// that keep the sidecar from connecting to itself.
import type { Socket } from "node:net";
import type { ConfigStore } from "../config/store";
import type { Protocol } from "../config/types";
import type { Http1Proxy } from "../http1";
import type { H2Proxy } from "../http2/proxy";
import type { WorkloadCertificate } from "../identity/workload-certificate";
import type { Dial } from "../tcp/dial";
import type { Metrics } from "../telemetry/metrics";
import type { ServiceUpstreams } from "../upstream";
import type { Destination, OriginalDst } from "./original-dst";

export interface ListenerDeps {
  store: ConfigStore;
  /** Routes, load balancing and resilience for outbound requests (upstream/). */
  upstreams: ServiceUpstreams;
  metrics: Metrics;
  originalDst: OriginalDst;
  outboundHttp: Http1Proxy;
  inboundHttp: Http1Proxy;
  /** The HTTP/2 proxies, created on first use (node:http2 is loaded only when h2 is seen). */
  outboundH2(): Promise<H2Proxy>;
  inboundH2(): Promise<H2Proxy>;
  /** How long "auto" ports wait for the client's first bytes before treating it as TCP. */
  detectTimeoutMs: number;
  /** How long declared HTTP ports wait for them. */
  headerTimeoutMs: number;
  /** The app's declared ports (--port 8080/http); undeclared ports are "auto" (detected). */
  declaredPorts: Map<number, Protocol>;
  /** Names inbound traffic in metrics: --service, else --workload. */
  localService: string;
  /** The workload's own address (--address), to recognise connections to ourselves. */
  workloadAddress: string;
  /** Every port the sidecar listens on. */
  ownPorts: Set<number>;
  /** Subscribes to a service's endpoints, routes and policy (on first need; repeated calls are free). */
  want(service: string): void;
  /** How long a first connection to a service waits for its endpoints before 503/close. */
  endpointsWaitMs: number;
  /** Called for every accepted socket, so draining can wait for and then close them. */
  track(socket: Socket): void;
  /** How upstream connections are opened: plain TCP, or mutual TLS to endpoints' sidecars. */
  dial: Dial;
  /** The workload certificate, once the control plane's CA has issued one. */
  certificate(): WorkloadCertificate | undefined;
  /** Where the app is reached from inbound. Default 127.0.0.1 (anything else loops into 15006). */
  appHost?: string;
  log(message: string): void;
}

/**
 * True when a destination is one of the sidecar's own listeners: forwarding there would loop.
 * Only local addresses count, so the app can still reach another workload's 15021 or 15090.
 */
export function isOwnDestination(deps: ListenerDeps, dst: Destination): boolean {
  if (!deps.ownPorts.has(dst.port)) return false;
  return dst.address.startsWith("127.") || dst.address === deps.workloadAddress || dst.address === "0.0.0.0";
}

/** How often one key's message may be logged. */
const LOG_EVERY_MS = 10_000;

/**
 * A log for what a client can repeat as fast as it likes (a scanner, an app retrying a wrong port):
 * each key's message at most once per 10 s.
 */
export function limitedLog(log: (message: string) => void): (key: string, message: string) => void {
  const last = new Map<string, number>();
  return (key, message) => {
    const now = Date.now();
    if (now - (last.get(key) ?? -Infinity) < LOG_EVERY_MS) return;
    if (last.size >= 1000) last.clear(); // keys come from clients: bounded
    last.set(key, now);
    log(message);
  };
}
