// Wires the sidecar together: config store and stream client, the listeners a request meets
// (outbound, inbound, dns), and the admin, health and metrics servers. Also the drain on shutdown.
import type { Socket as UdpSocket } from "node:dgram";
import http from "node:http";
import type { AddressInfo, Server, Socket } from "node:net";
import { adminHandler, healthHandler, metricsHandler } from "./admin/servers";
import { ConfigStore } from "./config/store";
import { DiscoveryClient } from "./config/wire-discovery";
import { SidecarError } from "./errors";
import { MAX_MIRRORS_IN_FLIGHT, MIRROR_TIMEOUT_MS, Mirrors } from "./http/mirror";
import type { RequestHooks } from "./http/route";
import { viaEntry } from "./http/via";
import { Http1Proxy } from "./http1";
import type { H2Proxy } from "./http2/proxy";
import { meshDial } from "./identity/mesh-tls";
import { WorkloadCertificates } from "./identity/workload-certificate";
import { DnsResolver, startDnsServers } from "./listeners/dns";
import { createInboundListener } from "./listeners/inbound";
import { loadOriginalDst, type OriginalDst } from "./listeners/original-dst";
import { createOutboundListener } from "./listeners/outbound";
import type { ListenerDeps } from "./listeners/routing";
import type { SidecarOptions, SidecarPorts } from "./options";
import type { AssembledTelemetry } from "./telemetry/assemble";
import { Metrics } from "./telemetry/metrics";
import { type OtlpForwarders, startOtlpForwarders } from "./telemetry/otlp-forward";
import { collectProcessMetrics } from "./telemetry/process-metrics";
import { ServiceUpstreams } from "./upstream";
import { capYoungGeneration } from "./young-generation";

export interface SidecarSeams {
  /** Default: SO_ORIGINAL_DST through the addon. */
  originalDst?: OriginalDst;
  /** Default: stderr. */
  log?: (message: string) => void;
  /** Where the public listeners bind. Default 0.0.0.0 (admin is always 127.0.0.1). */
  listenHost?: string;
  /** Where inbound traffic is delivered. Default 127.0.0.1. */
  appHost?: string;
  /** How long a first connection to a service waits for its endpoints. Default 5000 ms. */
  endpointsWaitMs?: number;
  /** Called at every HTTP/gRPC request's start and end, both directions (tracing, access logs). */
  hooks?: RequestHooks;
  /** Forward the app's own OTLP from 127.0.0.1:4317/4318 to the control plane. Default: on in a
   * workload's netns (listenHost left at its default), off for sidecars on the host's loopback. */
  otlpForwarding?: boolean;
  /** The workload certificate source. Default: the control plane's CA; null: none (plain text). */
  certificates?: WorkloadCertificates | null;
  /** Loads tracing and access logging (the OpenTelemetry SDK, winston). Default: import() of them. */
  importTelemetry?: () => Promise<typeof import("./telemetry/assemble")>;
}

export interface RunningSidecar {
  /** The ports actually bound (differs from the options when they asked for 0). */
  ports: SidecarPorts;
  store: ConfigStore;
  metrics: Metrics;
  /**
   * Stops accepting, answers with `Connection: close` (HTTP/1.1) and GOAWAY (HTTP/2), lets
   * in-flight requests finish (up to timeoutMs), then closes everything.
   */
  drain(timeoutMs?: number): Promise<void>;
  /** True once a drain has begun. */
  readonly draining: boolean;
  /** What /healthz/ready answers 200 to: the first config is in, tracing and access logging have
   * loaded (or failed to), and no drain has begun. */
  readonly ready: boolean;
}

export async function startSidecar(
  options: SidecarOptions,
  seams: SidecarSeams = {},
): Promise<RunningSidecar> {
  const log = seams.log ?? ((m: string) => console.error(`weft sidecar: ${m}`));
  const host = seams.listenHost ?? "0.0.0.0";
  // A sidecar's memory is mostly its young generation under load: hold it at its cap.
  capYoungGeneration();
  const store = new ConfigStore();
  const metrics = new Metrics();
  collectProcessMetrics(metrics);
  metrics.collect((m) => {
    m.setGauge(
      "weft_config_version",
      Object.entries(store.versions)
        .filter(([, version]) => version !== "")
        .map(([type, version]) => ({ labels: { type, version }, value: 1 })),
    );
    m.setGauge(
      "weft_config_rejections_total",
      [...store.rejections].map(([type, n]) => ({ labels: { type }, value: n })),
    );
  });
  // Tracing and access logs: the OpenTelemetry SDK and winston load in the background from the
  // start, while the listeners bind and the first config comes, and readiness waits for them, so the
  // app (started once its sidecar is ready) has every request traced and logged, its first ones too.
  // A load that fails leaves traffic untraced rather than the sidecar unready.
  let telemetry: AssembledTelemetry | undefined;
  let telemetryLoading: Promise<void> | undefined;
  let telemetrySettled = seams.hooks !== undefined;
  const loadTelemetry = (): Promise<void> => {
    telemetryLoading ??= (seams.importTelemetry ?? (() => import("./telemetry/assemble")))()
      .then(({ assembleTelemetry }) => {
        if (draining) return;
        telemetry = assembleTelemetry({
          controlPlane: options.controlPlane,
          workload: options.workload,
          service: options.service,
          nodeId: options.nodeId,
          store,
          log,
        });
      })
      .catch((err: Error) => log(`telemetry unavailable (traffic is unaffected): ${err.message}`))
      .finally(() => {
        telemetrySettled = true;
      });
    return telemetryLoading;
  };
  const pending = () =>
    !telemetrySettled
      ? "loading tracing and access logging"
      : certificates && !certificates.settled
        ? "asking the control plane for a workload certificate"
        : undefined;
  const hooks: RequestHooks = seams.hooks ?? {
    // Before ready (inbound traffic can come as soon as the listeners are up), requests go untraced.
    onRequest: (ctx) => telemetry?.hooks.onRequest(ctx),
    onComplete: (ctx) => telemetry?.hooks.onComplete(ctx),
  };
  const sockets = new Set<Socket>();
  // The workload certificate for mutual TLS with other sidecars: asked for at once, in parallel with
  // the first config; readiness waits until the first request has an answer.
  const certificates =
    seams.certificates === null
      ? undefined
      : (seams.certificates ??
        new WorkloadCertificates({
          controlPlane: options.controlPlane,
          token: options.token,
          node: {
            id: options.nodeId,
            workload: options.workload,
            service: options.service,
            address: options.address,
            labels: options.labels,
          },
          log,
        }));
  const certificate = () => certificates?.current;
  const dial = meshDial(certificate, (outcome) => metrics.meshConnection("outbound", outcome));
  metrics.collect((m) => {
    const cert = certificate();
    m.setGauge(
      "weft_workload_certificate_expiry_timestamp_seconds",
      cert
        ? [{ labels: { identity: cert.identity }, value: Math.floor(cert.notAfter.getTime() / 1000) }]
        : [],
    );
  });
  const timeouts = {
    headerTimeoutMs: options.headerTimeoutMs ?? 10_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
    hooks,
  };
  // Copies for routes' mirrors: only outbound traffic is routed, so only it is mirrored.
  const mirrors = new Mirrors(metrics, MAX_MIRRORS_IN_FLIGHT, MIRROR_TIMEOUT_MS, dial);
  const outboundHttp = new Http1Proxy({
    direction: "outbound",
    workload: options.workload,
    metrics,
    log,
    mirrors,
    dial,
    ...timeouts,
  });
  const inboundHttp = new Http1Proxy({
    direction: "inbound",
    workload: options.workload,
    metrics,
    log,
    ...timeouts,
  });
  // node:http2 is loaded on the first h2 connection: most sidecars start without ever needing it.
  const h2 = new Map<"inbound" | "outbound", Promise<H2Proxy>>();
  const h2Proxy = (direction: "inbound" | "outbound"): Promise<H2Proxy> => {
    let proxy = h2.get(direction);
    if (!proxy) {
      proxy = import("./http2/proxy").then(
        ({ H2Proxy }) =>
          new H2Proxy({
            flow: {
              direction,
              via: viaEntry(options.workload, direction),
              metrics,
              hooks,
              draining: draining !== undefined,
              ...(direction === "outbound" ? { mirrors } : {}),
            },
            idleTimeoutMs: timeouts.idleTimeoutMs,
            log,
            ...(direction === "outbound" ? { dial } : {}),
          }),
      );
      h2.set(direction, proxy);
    }
    return proxy;
  };
  const h2Active = async () => {
    let n = 0;
    for (const p of h2.values()) n += (await p).active;
    return n;
  };
  const ownPorts = new Set(Object.values(options.listen).filter((p) => p > 0));
  const deps: ListenerDeps = {
    store,
    upstreams: new ServiceUpstreams({ metrics, log }),
    metrics,
    originalDst: seams.originalDst ?? loadOriginalDst(),
    outboundHttp,
    inboundHttp,
    outboundH2: () => h2Proxy("outbound"),
    inboundH2: () => h2Proxy("inbound"),
    detectTimeoutMs: options.detectTimeoutMs ?? 100,
    headerTimeoutMs: timeouts.headerTimeoutMs,
    declaredPorts: options.ports,
    localService: options.service || options.workload,
    workloadAddress: options.address,
    ownPorts,
    appHost: seams.appHost,
    log,
    want: (service) => discovery.want(service),
    endpointsWaitMs: seams.endpointsWaitMs ?? 5000,
    dial,
    certificate,
    track(socket) {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    },
  };
  const discovery = new DiscoveryClient({
    target: options.controlPlane,
    node: {
      id: options.nodeId,
      workload: options.workload,
      service: options.service,
      address: options.address,
      labels: options.labels,
    },
    store,
    log,
  });

  let otlpForwarders: OtlpForwarders | undefined;
  const servers: Server[] = [];
  let dnsUdp: UdpSocket | undefined;
  let adminServer: Server | undefined;
  /** Admin and health stay up while draining: /config_dump answers, readiness says 503. */
  const closeLast = new Set<Server>();
  let draining: Promise<void> | undefined;
  /** Traffic only (POST /drain): admin, health and the config stream stay up. */
  const drainTraffic = (timeoutMs: number): Promise<void> => {
    draining ??= drainAll(timeoutMs);
    return draining;
  };
  // The telemetry load starts here, once everything its completion reads is declared.
  if (!seams.hooks) void loadTelemetry();
  /** Everything (SIGTERM, tests): traffic first, then the rest. */
  const drain = async (timeoutMs = 5000): Promise<void> => {
    await drainTraffic(timeoutMs);
    otlpForwarders?.close();
    // The last spans and access-log lines go out before the config stream closes.
    await telemetryLoading;
    await telemetry?.close();
    certificates?.close();
    discovery.stop();
    for (const s of closeLast) s.close();
  };
  const drainAll = async (timeoutMs: number) => {
    // Listeners stop first (new connections are refused), then the proxies tell clients to go:
    // HTTP/1.1 responses say `Connection: close`, HTTP/2 sessions get GOAWAY.
    for (const s of servers) if (!closeLast.has(s)) s.close();
    dnsUdp?.close();
    outboundHttp.startDrain();
    inboundHttp.startDrain();
    for (const p of h2.values()) (await p).startDrain();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (sockets.size > 0 || outboundHttp.active + inboundHttp.active > 0)) {
      // Keep-alive connections between requests are closed as soon as they are idle.
      outboundHttp.closeIdle();
      inboundHttp.closeIdle();
      if (sockets.size === 0 && (await h2Active()) === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const socket of sockets) socket.destroy();
    outboundHttp.close();
    inboundHttp.close();
    mirrors.close();
    for (const p of h2.values()) (await p).close();
  };

  const ports: SidecarPorts = { ...options.listen };
  // The config stream opens first: the first config is on its way while the listeners bind, and
  // readiness needs both.
  discovery.start();
  certificates?.start();
  try {
    const listen = async (name: keyof SidecarPorts, server: Server, bindHost: string) => {
      servers.push(server);
      ports[name] = await listenOn(server, options.listen[name], bindHost, name);
    };
    await listen("outbound", createOutboundListener(deps), host);
    await listen("inbound", createInboundListener(deps), host);
    await listen("metrics", http.createServer(metricsHandler(metrics)), host);
    adminServer = http.createServer(
      adminHandler({
        store,
        metrics,
        pending,
        describe: () => ({
          node: options.nodeId,
          workload: options.workload,
          controlPlane: options.controlPlane,
          streamConnects: discovery.connects,
          subscribedServices: discovery.wantedServices(),
          draining: draining !== undefined,
        }),
        drain: () => void drainTraffic(options.drainTimeoutMs ?? 5000),
        certs: () => {
          const cert = certificate();
          if (!cert) return { certificate: null, problem: certificates?.problem ?? "no certificate source" };
          return {
            identity: cert.identity,
            serialNumber: cert.serialNumber,
            notBefore: cert.notBefore.toISOString(),
            notAfter: cert.notAfter.toISOString(),
            issued: certificates?.issued ?? 0,
            certificatePem: cert.certificatePem,
            trustBundlePem: cert.trustBundlePem,
          };
        },
        quit: () => void drain(0).then(() => process.kill(process.pid, "SIGTERM")),
      }),
    );
    closeLast.add(adminServer);
    await listen("admin", adminServer, "127.0.0.1");
    const resolver = new DnsResolver({
      store,
      upstream: options.upstreamDns,
      searchDomains: options.dnsSearch,
      onServiceName: (service) => discovery.want(service),
    });
    // Loopback only: iptables REDIRECTs the app's DNS (nat OUTPUT) to 127.0.0.1, and a UDP reply
    // must leave from that address for conntrack to turn it back into the server the app asked.
    const dns = await startDnsServers(resolver, options.listen.dns, "127.0.0.1").catch((err: Error) => {
      throw new SidecarError(
        "LISTEN_FAILED",
        `cannot listen for DNS on 127.0.0.1:${options.listen.dns}: ${err.message}`,
      );
    });
    dnsUdp = dns.udp;
    servers.push(dns.tcp);
    ports.dns = (dns.udp.address() as AddressInfo).port;
  } catch (err) {
    await drain(0);
    throw err;
  }
  if (seams.otlpForwarding ?? seams.listenHost === undefined) {
    otlpForwarders = await startOtlpForwarders({
      controlPlane: options.controlPlane,
      appPorts: options.ports,
      log,
    });
    // Reached from outside the workload only through inbound capture, which must not pass to them.
    for (const p of otlpForwarders.ports) ownPorts.add(p);
  }
  // Health binds last: once it says ready (the first config has come and telemetry has loaded too),
  // every listener is up, so an app started then finds its DNS and OTLP ports answering.
  try {
    const healthServer = http.createServer(healthHandler(store, () => draining !== undefined, pending));
    closeLast.add(healthServer);
    servers.push(healthServer);
    ports.health = await listenOn(healthServer, options.listen.health, host, "health");
  } catch (err) {
    await drain(0);
    throw err;
  }
  // Ports picked by the OS (0 asked) are ours too.
  for (const p of Object.values(ports)) ownPorts.add(p);
  return {
    ports,
    store,
    metrics,
    drain,
    get draining() {
      return draining !== undefined;
    },
    get ready() {
      return store.ready && pending() === undefined && draining === undefined;
    },
  };
}

function listenOn(server: Server, port: number, host: string, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (err: Error) =>
      reject(
        new SidecarError(
          "LISTEN_FAILED",
          `cannot listen for ${name} on ${host}:${port}: ${err.message}; is another sidecar running in this netns?`,
        ),
      ),
    );
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
