// Starts the whole control plane in this process: registry (SQLite), config push and registration
// (gRPC on TCP and a unix socket), and the HTTP API.
import { existsSync, unlinkSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import type * as grpc from "@grpc/grpc-js";
import { createApiServer } from "./api/http-server";
import { DiscoveryServer } from "./discovery/discovery-server";
import type { ProxyStatus } from "./discovery/proxy-status";
import { ControlPlaneError } from "./errors";
import { bindTcp, bindUnix, createGrpcServer, shutdownGrpc } from "./grpc-server";
import { SqliteRegistry } from "./registry/sqlite-registry";
import type { ServiceRegistry } from "./registry/types";
import { openRegistryDatabase } from "./store/database";

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
}

export interface RunningControlPlane {
  /** "127.0.0.1:PORT" */
  grpcAddress: string;
  /** "127.0.0.1:PORT" */
  httpAddress: string;
  /** The unix socket path, "" when none. */
  socketPath: string;
  registry: ServiceRegistry;
  /** Connected sidecars and their ACK/NACK state. */
  proxies(): ProxyStatus[];
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
  const db = openRegistryDatabase(o.dataDir);
  let registry: SqliteRegistry;
  try {
    registry = new SqliteRegistry(db, { serviceCidr: o.serviceCidr, log });
  } catch (err) {
    db.close();
    throw err;
  }
  const discovery = new DiscoveryServer(registry, { debounceMs: o.debounceMs, log });
  const api = createApiServer({ registry, proxies: () => discovery.listProxies(), log });
  let grpcServer: grpc.Server | undefined;
  let socketBound = false;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      discovery.close();
      api.abortWaits();
      await new Promise<void>((resolve) => {
        api.server.close(() => resolve());
        api.server.closeAllConnections();
      });
      if (grpcServer) await shutdownGrpc(grpcServer);
      if (socketBound && existsSync(o.grpcSocket)) unlinkSync(o.grpcSocket);
      registry.close();
    })();
    return closed;
  };

  try {
    grpcServer = createGrpcServer(registry, discovery, log);
    const grpcPort = await bindTcp(grpcServer, o.listenHost, o.grpcPort);
    if (o.grpcSocket) {
      await bindUnix(grpcServer, o.grpcSocket);
      socketBound = true;
    }
    const httpPort = await listenHttp(api.server, o.listenHost, o.httpPort);
    return {
      grpcAddress: `${o.listenHost}:${grpcPort}`,
      httpAddress: `${o.listenHost}:${httpPort}`,
      socketPath: o.grpcSocket,
      registry,
      proxies: () => discovery.listProxies(),
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
