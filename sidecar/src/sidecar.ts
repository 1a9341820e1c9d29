// Wires the sidecar together: config store and stream client, the listeners a request meets
// (outbound, inbound, dns), and the admin, health and metrics servers. Also the drain on shutdown.
import type { Socket as UdpSocket } from "node:dgram";
import http from "node:http";
import type { AddressInfo, Server, Socket } from "node:net";
import { adminHandler, healthHandler, metricsHandler } from "./admin/servers";
import { ConfigStore } from "./config/store";
import { DiscoveryClient } from "./config/wire-discovery";
import { SidecarError } from "./errors";
import { HttpProxy } from "./http/proxy";
import { DnsResolver, startDnsServers } from "./listeners/dns";
import { createInboundListener } from "./listeners/inbound";
import { loadOriginalDst, type OriginalDst } from "./listeners/original-dst";
import { createOutboundListener } from "./listeners/outbound";
import type { ListenerDeps } from "./listeners/routing";
import type { SidecarOptions, SidecarPorts } from "./options";
import { Metrics } from "./telemetry/metrics";
import { RoundRobin } from "./upstream/round-robin";

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
}

export interface RunningSidecar {
  /** The ports actually bound (differs from the options when they asked for 0). */
  ports: SidecarPorts;
  store: ConfigStore;
  metrics: Metrics;
  /** Stops accepting, lets in-flight requests finish (up to timeoutMs), then closes everything. */
  drain(timeoutMs?: number): Promise<void>;
}

export async function startSidecar(
  options: SidecarOptions,
  seams: SidecarSeams = {},
): Promise<RunningSidecar> {
  const log = seams.log ?? ((m: string) => console.error(`weft sidecar: ${m}`));
  const host = seams.listenHost ?? "0.0.0.0";
  const store = new ConfigStore();
  const metrics = new Metrics();
  const sockets = new Set<Socket>();
  const outboundHttp = new HttpProxy({ direction: "outbound", workload: options.workload, metrics, log });
  const inboundHttp = new HttpProxy({ direction: "inbound", workload: options.workload, metrics, log });
  const ownPorts = new Set(Object.values(options.listen).filter((p) => p > 0));
  const deps: ListenerDeps = {
    store,
    balancer: new RoundRobin(),
    metrics,
    originalDst: seams.originalDst ?? loadOriginalDst(),
    outboundHttp,
    inboundHttp,
    declaredPorts: options.ports,
    localService: options.service || options.workload,
    workloadAddress: options.address,
    ownPorts,
    appHost: seams.appHost,
    log,
    want: (service) => discovery.want(service),
    endpointsWaitMs: seams.endpointsWaitMs ?? 5000,
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

  const servers: Server[] = [];
  let dnsUdp: UdpSocket | undefined;
  let draining: Promise<void> | undefined;
  const drain = (timeoutMs = 5000): Promise<void> => {
    draining ??= drainAll(timeoutMs);
    return draining;
  };
  const drainAll = async (timeoutMs: number) => {
    for (const s of servers) s.close();
    dnsUdp?.close();
    discovery.stop();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (sockets.size > 0 || outboundHttp.active + inboundHttp.active > 0)) {
      // Keep-alive connections between requests are closed as soon as they are idle.
      outboundHttp.closeIdle();
      inboundHttp.closeIdle();
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const socket of sockets) socket.destroy();
    outboundHttp.close();
    inboundHttp.close();
  };

  const ports: SidecarPorts = { ...options.listen };
  try {
    const listen = async (name: keyof SidecarPorts, server: Server, bindHost: string) => {
      servers.push(server);
      ports[name] = await listenOn(server, options.listen[name], bindHost, name);
    };
    await listen("outbound", createOutboundListener(deps), host);
    await listen("inbound", createInboundListener(deps), host);
    await listen("health", http.createServer(healthHandler(store)), host);
    await listen("metrics", http.createServer(metricsHandler(metrics)), host);
    await listen(
      "admin",
      http.createServer(
        adminHandler({
          store,
          metrics,
          describe: () => ({
            node: options.nodeId,
            workload: options.workload,
            controlPlane: options.controlPlane,
            streamConnects: discovery.connects,
            subscribedServices: discovery.wantedServices(),
          }),
          quit: () => void drain().then(() => process.kill(process.pid, "SIGTERM")),
        }),
      ),
      "127.0.0.1",
    );
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
  // Ports picked by the OS (0 asked) are ours too.
  for (const p of Object.values(ports)) ownPorts.add(p);
  discovery.start();
  return { ports, store, metrics, drain };
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
