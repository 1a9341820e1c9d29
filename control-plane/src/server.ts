// Starts the whole control plane in this process: registry (SQLite), config push and registration
// (gRPC on TCP and a unix socket), and the HTTP API.

import type { Socket as UdpSocket } from "node:dgram";
import { existsSync, unlinkSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo, Server } from "node:net";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import type { AuthorizationSpec } from "../../proto/authorization-rules";
import { otlpHttpSocketFor } from "../../proto/index";
import type { MtlsMode } from "../../proto/mtls-mode";
import { startDnsServers } from "../../sidecar/src/index";
import { agentConsulExtras, consulAgentRoutes, defaultAgentNode } from "./api/consul-agent";
import { catalogConsulExtras, consulCatalogRoutes, mergeExtras } from "./api/consul-catalog";
import { ConsulDnsResolver } from "./api/consul-dns";
import { createApiServer } from "./api/http-server";
import { prometheusRoutes } from "./api/prometheus-sd";
import { type ConfigStore, SqliteConfigStore } from "./config/index";
import { Dashboard } from "./dashboard/index";
import type { ConfigSource } from "./discovery/config-source";
import { DiscoveryServer } from "./discovery/discovery-server";
import type { ProxyStatus } from "./discovery/proxy-status";
import { ControlPlaneError } from "./errors";
import { bindTcp, bindUnix, createGrpcServer, shutdownGrpc } from "./grpc-server";
import { MeshCa } from "./identity/ca";
import { caRoutes } from "./identity/ca-routes";
import { configEntryRoutes } from "./identity/config-entries";
import { certificateAuthorityHandlers } from "./identity/grpc-identity";
import { intentionRoutes, policyOf } from "./identity/intentions-routes";
import { IssuedCertificates } from "./identity/issued-certificates";
import { SqliteKv } from "./kv/kv-store";
import { AgentSource } from "./registration/agent-source";
import { AgentStore } from "./registration/agent-store";
import { CatalogSource } from "./registration/catalog-source";
import { SourceLeases } from "./registration/source-leases";
import { IdleServiceReaper } from "./registry/idle-reaper";
import { SqliteRegistry } from "./registry/sqlite-registry";
import type { ServiceRegistry } from "./registry/types";
import { openRegistryDatabase } from "./store/database";
import { type RetentionLimits, startTelemetry, type Telemetry } from "./telemetry/index";

export interface ControlPlaneOptions {
  /** Where the registry database lives. Default "/var/lib/weft/control-plane". */
  dataDir?: string;
  /** Address the TCP listeners bind. Default "127.0.0.1". */
  listenHost?: string;
  /** gRPC port (registration, config stream). Default 15010; 0 picks a free port. */
  grpcPort?: number;
  /** HTTP port (REST, Consul-compatible API). Default 15080; 0 picks a free port. */
  httpPort?: number;
  /** Unix socket for gRPC, mode 0666. Default "/run/weft/cp.sock"; "" for none. */
  grpcSocket?: string;
  /** Range for service virtual IPs. Default "10.96.0.0/16". */
  serviceCidr?: string;
  /** How long registry changes are merged before a push. Default 50 ms. */
  debounceMs?: number;
  /** Where problems (NACKs, failed requests) are reported. Default: console.error. */
  log?: (message: string) => void;
  /** When set, mutating HTTP requests need it (docs/INTERFACES.md "HTTP auth"). Default: none. */
  token?: string;
  /** A source (daemon) silent this long has its endpoints marked unhealthy. Default 30,000 ms. */
  sourceTtlMs?: number;
  /** An implied service without endpoints this long is removed. Default 60,000 ms; 0 keeps them. */
  idleServiceTtlMs?: number;
  /** The node name the Consul agent API reports and registers services on. Default: the hostname. */
  agentNode?: string;
  /** Routes, policies and telemetry pushed to sidecars (the config store). Default: none. */
  config?: ConfigSource;
  /** The telemetry database (spans, logs), its own file. Default DATA_DIR/telemetry.db. */
  telemetryDb?: string;
  /** OTLP/gRPC receiver port (the CLI's default is 4317); 0 picks one; undefined: none. */
  otlpGrpcPort?: number;
  /** OTLP/HTTP receiver port (the CLI's default is 4318); 0 picks one; undefined: none. */
  otlpHttpPort?: number;
  /** When an OTLP port is taken: "fail" (default) or "skip" (log, run without that receiver). */
  otlpPortBusy?: "fail" | "skip";
  /** Consul's DNS interface, UDP and TCP (the CLI's default is 8600); 0 picks one; undefined: none. */
  dnsPort?: number;
  /** When the DNS port is taken: "fail" (default) or "skip" (log, run without it). */
  dnsPortBusy?: "fail" | "skip";
  /** Trace and log retention by age and size. Default: 24 h and 512 MiB each. */
  telemetryRetention?: Partial<RetentionLimits>;
  /** The mesh CA's folder (root-cert.pem, root-key.pem; made at first start). Default DATA_DIR/ca. */
  caDir?: string;
  /** The SPIFFE trust domain of workload identities. Default "weft.local". */
  trustDomain?: string;
  /** Mutual TLS between sidecars where a Service does not say (spec.mtls). Default "PERMISSIVE". */
  mtlsMode?: MtlsMode;
}

export interface RunningControlPlane {
  /** "127.0.0.1:PORT" */
  grpcAddress: string;
  /** "127.0.0.1:PORT" */
  httpAddress: string;
  /** Consul's DNS interface, "127.0.0.1:PORT" (UDP and TCP); "" when off. */
  dnsAddress: string;
  /** The unix socket path, "" when none. */
  socketPath: string;
  registry: ServiceRegistry;
  /** Mesh config objects (Service, Route, ResiliencePolicy, Telemetry, AuthorizationPolicy) in the same database. */
  config: ConfigStore;
  /** Connected sidecars and their ACK/NACK state. */
  proxies(): ProxyStatus[];
  /** Trace and log store, OTLP receivers (addresses "" when off), ingest counters. */
  telemetry: Telemetry;
  /** The mesh CA that signs sidecars' certificates. */
  ca: MeshCa;
  /** Stops listening, ends streams, closes the database; safe to call twice. */
  close(): Promise<void>;
}

export const DEFAULTS = {
  dataDir: "/var/lib/weft/control-plane",
  listenHost: "127.0.0.1",
  grpcPort: 15010,
  httpPort: 15080,
  grpcSocket: "/run/weft/cp.sock",
  serviceCidr: "10.96.0.0/16",
  debounceMs: 50,
} as const;

function listenHttp(server: HttpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") {
        reject(
          new ControlPlaneError(
            "PORT_IN_USE",
            `HTTP port ${port} on ${host} is already in use (another control plane?); stop it or pick another port with --http-port`,
          ),
        );
      } else {
        reject(
          new ControlPlaneError("UNREACHABLE", `cannot listen for HTTP on ${host}:${port}: ${err.message}`),
        );
      }
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<RunningControlPlane> {
  const o = { ...DEFAULTS, ...stripUndefined(options) };
  const log = options.log ?? ((m: string) => console.error(`control-plane: ${m}`));
  // The CA first: a root that cannot be read stops the start before anything is opened.
  const ca = await MeshCa.open(options.caDir ?? join(o.dataDir, "ca"), options.trustDomain);
  const db = openRegistryDatabase(o.dataDir);
  let registry: SqliteRegistry;
  let configStore: SqliteConfigStore;
  let issued: IssuedCertificates;
  try {
    registry = new SqliteRegistry(db, { serviceCidr: o.serviceCidr, log });
    configStore = new SqliteConfigStore(db, registry, { log });
    issued = new IssuedCertificates({ db, rootId: ca.root().id, log });
  } catch (err) {
    db.close();
    throw err;
  }
  let telemetry: Telemetry;
  try {
    telemetry = await startTelemetry({
      dbPath: options.telemetryDb ?? join(o.dataDir, "telemetry.db"),
      host: o.listenHost,
      otlpGrpcPort: options.otlpGrpcPort,
      otlpHttpPort: options.otlpHttpPort,
      otlpHttpSocket: o.grpcSocket ? otlpHttpSocketFor(o.grpcSocket) : undefined,
      onPortBusy: options.otlpPortBusy,
      retention: options.telemetryRetention,
      log,
    });
  } catch (err) {
    registry.close();
    throw err;
  }
  const discovery = new DiscoveryServer(registry, {
    debounceMs: o.debounceMs,
    config: options.config ?? configStore,
    log,
    mtlsMode: options.mtlsMode,
  });
  const agent = new AgentSource(registry, new AgentStore(db), {
    nodeName: options.agentNode ?? defaultAgentNode(),
    log,
  });
  const catalog = new CatalogSource(registry, db, log);
  const consulExtras = mergeExtras(agentConsulExtras(agent), catalogConsulExtras(catalog));
  const leases = new SourceLeases(registry, { ttlMs: options.sourceTtlMs, log });
  const reaper =
    options.idleServiceTtlMs === 0
      ? undefined
      : new IdleServiceReaper(registry, {
          ttlMs: options.idleServiceTtlMs,
          log,
          namedByConfig: (service) =>
            (["Route", "ResiliencePolicy", "Telemetry", "AuthorizationPolicy"] as const).some((kind) =>
              configStore
                .forService(kind, service)
                .some((o) => (o.spec as { service?: string }).service === service),
            ),
        });
  let httpAddress = "";
  // Each sidecar with the certificate the CA last issued it (the CA hears the same node ids).
  const proxies = () =>
    discovery.listProxies().map((p) => {
      const cert = issued.of(p.nodeId);
      return cert
        ? { ...p, certificate: { identity: cert.identity, notAfter: cert.notAfter.toISOString() } }
        : p;
    });
  const dashboard = new Dashboard();
  const api = createApiServer({
    registry,
    config: configStore,
    proxies,
    log,
    token: options.token || undefined,
    consul: consulExtras,
    kv: new SqliteKv(db),
    extraRoutes: [
      ...consulAgentRoutes(agent, registry, () => httpAddress, { catalog, extras: consulExtras }),
      ...consulCatalogRoutes(catalog),
      ...prometheusRoutes(registry),
      ...telemetry.routes,
      ...intentionRoutes(configStore),
      ...configEntryRoutes(configStore),
      ...caRoutes(ca, issued, {
        defaultMtlsMode: options.mtlsMode ?? "PERMISSIVE",
        authorizationFor: (service) => {
          const o = policyOf(configStore, service);
          return o && { name: o.metadata.name, spec: o.spec as AuthorizationSpec };
        },
      }),
    ],
    streams: telemetry.streams,
    dashboard: (method, pathname, res) => dashboard.serve(method, pathname, res),
  });
  let grpcServer: grpc.Server | undefined;
  let socketBound = false;
  let dns: { udp: UdpSocket; tcp: Server } | undefined;
  let dnsAddress = "";

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      discovery.close();
      agent.close();
      leases.close();
      reaper?.close();
      api.abortWaits();
      await new Promise<void>((resolve) => {
        api.server.close(() => resolve());
        api.server.closeAllConnections();
      });
      if (grpcServer) await shutdownGrpc(grpcServer);
      if (dns) {
        const { udp, tcp } = dns;
        udp.close();
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
      }
      if (socketBound && existsSync(o.grpcSocket)) unlinkSync(o.grpcSocket);
      await telemetry.close();
      registry.close();
    })();
    return closed;
  };

  try {
    grpcServer = createGrpcServer(
      registry,
      discovery,
      log,
      { leases },
      certificateAuthorityHandlers(ca, log, (r) => issued.record(r)),
      options.token || undefined,
    );
    telemetry.addGrpcServices(grpcServer);
    const grpcPort = await bindTcp(grpcServer, o.listenHost, o.grpcPort);
    if (o.grpcSocket) {
      await bindUnix(grpcServer, o.grpcSocket);
      socketBound = true;
    }
    const httpPort = await listenHttp(api.server, o.listenHost, o.httpPort);
    httpAddress = `${o.listenHost}:${httpPort}`;
    if (options.dnsPort !== undefined) {
      try {
        dns = await startDnsServers(
          new ConsulDnsResolver(registry, consulExtras),
          options.dnsPort,
          o.listenHost,
        );
        dnsAddress = `${o.listenHost}:${(dns.tcp.address() as AddressInfo).port}`;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const message = `cannot serve Consul DNS on ${o.listenHost}:${options.dnsPort}: ${code === "EADDRINUSE" ? "the port is in use (a Consul agent?); give another with --dns-port" : (err as Error).message}`;
        if (options.dnsPortBusy !== "skip" || code !== "EADDRINUSE") throw new Error(message);
        log(`${message}; running without it`);
      }
    }
    return {
      grpcAddress: `${o.listenHost}:${grpcPort}`,
      httpAddress: `${o.listenHost}:${httpPort}`,
      dnsAddress,
      socketPath: o.grpcSocket,
      registry,
      config: configStore,
      proxies,
      telemetry,
      ca,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
