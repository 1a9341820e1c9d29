// The control plane's telemetry side in one object: the store, the OTLP receivers (gRPC and HTTP),
// the LogSink service (added to the control plane's own gRPC server), and the REST routes.
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { Route } from "../api/http-server";
import { TelemetryError } from "./errors";
import { type IngestCounters, newCounters } from "./ingest";
import { addLogSink } from "./log-sink";
import { addOtlpServices, createOtlpGrpcServer } from "./otlp-grpc";
import { createOtlpHttpServer } from "./otlp-http";
import { telemetryRoutes, telemetryStreams } from "./rest-routes";
import type { RetentionLimits } from "./retention";
import { TelemetryStore } from "./telemetry-store";

export interface TelemetryOptions {
  /** The telemetry database file (its own, never the registry's). */
  dbPath: string;
  /** Address the OTLP receivers bind. Default "127.0.0.1". */
  host?: string;
  /** OTLP/gRPC port; 0 picks one; undefined: no gRPC receiver. */
  otlpGrpcPort?: number;
  /** OTLP/HTTP port; 0 picks one; undefined: no HTTP receiver. */
  otlpHttpPort?: number;
  /** Also serve OTLP/HTTP on this unix socket (mode 0666), for sidecars forwarding their apps'
   * own exports. Default: none. */
  otlpHttpSocket?: string;
  /**
   * What to do when an OTLP port is taken: "fail" (default) or "skip" (log and run without that
   * receiver: for default ports, so a second control plane on one host still starts).
   */
  onPortBusy?: "fail" | "skip";
  retention?: Partial<RetentionLimits>;
  retentionIntervalMs?: number;
  log?: (message: string) => void;
}

export interface Telemetry {
  store: TelemetryStore;
  counters: IngestCounters;
  /** "127.0.0.1:PORT", or "" when that receiver is off. */
  otlpGrpcAddress: string;
  otlpHttpAddress: string;
  /** For the control plane's HTTP route table. */
  routes: Route[];
  /** For the HTTP server's streaming hook (log following). */
  streams: ReturnType<typeof telemetryStreams>;
  /** Adds weft.v1.LogSink and OTLP's trace and logs services to the control plane's gRPC server
   * (before it starts): sidecars send spans and log lines over its unix socket. */
  addGrpcServices(server: grpc.Server): void;
  close(): Promise<void>;
}

function portBusy(which: string, host: string, port: number): TelemetryError {
  return new TelemetryError(
    "PORT_IN_USE",
    `OTLP ${which} port ${port} on ${host} is already in use (another control plane or collector?); stop it or pick another with --otlp-${which.toLowerCase()}-port`,
  );
}

function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (!err) return resolve(bound);
      reject(/EADDRINUSE|No address added/.test(err.message) ? portBusy("gRPC", host, port) : err);
    });
  });
}

/** A socket file left by a dead control plane is replaced. */
function listenUnix(server: HttpServer, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  rmSync(path, { force: true });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      chmodSync(path, 0o666);
      resolve();
    });
  });
}

function listen(server: HttpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? portBusy("HTTP", host, port) : err),
    );
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startTelemetry(o: TelemetryOptions): Promise<Telemetry> {
  const log = o.log ?? ((m) => console.error(m));
  const host = o.host ?? "127.0.0.1";
  const store = new TelemetryStore({
    path: o.dbPath,
    retention: o.retention,
    retentionIntervalMs: o.retentionIntervalMs,
    log,
  });
  const counters = newCounters();
  let grpcServer: grpc.Server | undefined;
  let httpServer: HttpServer | undefined;
  let socketServer: HttpServer | undefined;
  let otlpGrpcAddress = "";
  let otlpHttpAddress = "";
  const close = async () => {
    if (grpcServer) {
      const s = grpcServer;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.forceShutdown();
          resolve();
        }, 500);
        s.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    if (socketServer?.listening) {
      const s = socketServer;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
      rmSync(o.otlpHttpSocket ?? "", { force: true });
    }
    if (httpServer?.listening) {
      const s = httpServer;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
    await store.close();
  };
  const tolerate = (err: unknown) => {
    if (o.onPortBusy === "skip" && err instanceof TelemetryError && err.code === "PORT_IN_USE") {
      log(`${err.message}; running without this OTLP receiver`);
      return;
    }
    throw err;
  };
  try {
    if (o.otlpGrpcPort !== undefined) {
      const server = createOtlpGrpcServer({ store, counters, log });
      try {
        otlpGrpcAddress = `${host}:${await bindGrpc(server, host, o.otlpGrpcPort)}`;
        grpcServer = server;
      } catch (err) {
        server.forceShutdown();
        tolerate(err);
      }
    }
    if (o.otlpHttpSocket) {
      const server = createOtlpHttpServer({ store, counters, log });
      await listenUnix(server, o.otlpHttpSocket);
      socketServer = server;
    }
    if (o.otlpHttpPort !== undefined) {
      const server = createOtlpHttpServer({ store, counters, log });
      try {
        otlpHttpAddress = `${host}:${await listen(server, host, o.otlpHttpPort)}`;
        httpServer = server;
      } catch (err) {
        tolerate(err);
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    store,
    counters,
    otlpGrpcAddress,
    otlpHttpAddress,
    routes: telemetryRoutes(store, () => ({
      otlpGrpc: otlpGrpcAddress,
      otlpHttp: otlpHttpAddress,
      spans: {
        accepted: counters.spansAccepted,
        rejected: counters.spansRejected,
        storedBytes: store.spans.storedBytes,
      },
      logs: {
        accepted: counters.logsAccepted,
        dropped: store.logs.droppedLines,
        storedBytes: store.logs.storedBytes,
        followers: store.logs.followers(),
      },
      badRequests: counters.badRequests,
    })),
    streams: telemetryStreams(store),
    addGrpcServices: (server) => {
      addLogSink(server, store, counters, log);
      addOtlpServices(server, { store, counters, log });
    },
    close,
  };
}
