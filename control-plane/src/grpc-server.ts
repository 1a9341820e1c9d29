// The control plane's gRPC server: Registration, ConfigDiscovery and the CertificateAuthority, on a
// TCP port and on a unix socket that sidecars in other network namespaces reach through the shared
// filesystem. With --token, the calls that change the mesh or hand out an identity (SyncEndpoints,
// SignCertificate) need it as `authorization: Bearer TOKEN`, as the HTTP API's writes do: the socket
// is open to every local user (sidecars run as uid 1337), and without the token any of them could
// register endpoints for a service or get its certificate.
import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { connect, createServer } from "node:net";
import { dirname } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadWeftProto } from "../../proto/grpc";
import type { CertificateAuthorityHandlers } from "../../proto/index";
import { sameSecret } from "./api/auth";
import type { DiscoveryServer } from "./discovery/discovery-server";
import { configDiscoveryHandlers } from "./discovery/grpc-discovery";
import { ControlPlaneError } from "./errors";
import { type RegistrationOptions, registrationHandlers } from "./registration/grpc-registration";
import type { ServiceRegistry } from "./registry/types";

export function createGrpcServer(
  registry: ServiceRegistry,
  discovery: DiscoveryServer,
  log: (message: string) => void,
  registration: RegistrationOptions = {},
  certificateAuthority?: CertificateAuthorityHandlers,
  token?: string,
): grpc.Server {
  const proto = loadWeftProto();
  const server = new grpc.Server();
  const handlers = registrationHandlers(registry, log, registration);
  server.addService(proto.weft.v1.Registration.service, {
    SyncEndpoints: withToken(token, "SyncEndpoints", handlers.SyncEndpoints),
  });
  server.addService(proto.weft.v1.ConfigDiscovery.service, configDiscoveryHandlers(discovery));
  if (certificateAuthority)
    server.addService(proto.weft.v1.CertificateAuthority.service, {
      SignCertificate: withToken(token, "SignCertificate", certificateAuthority.SignCertificate),
    });
  return server;
}

/** Why a call's metadata does not carry `token`, or undefined when it does. */
export function grpcTokenProblem(metadata: grpc.Metadata, token: string): string | undefined {
  const value = metadata.get("authorization")[0];
  const given = typeof value === "string" ? /^Bearer\s+(.+)$/i.exec(value.trim())?.[1] : undefined;
  if (given === undefined)
    return "this control plane runs with --token (WEFT_TOKEN): start the daemon (and so its sidecars) with the same WEFT_TOKEN";
  if (!sameSecret(given, token)) return "the token does not match the control plane's --token (WEFT_TOKEN)";
  return undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: any unary handler, whatever its messages.
type Unary = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => void;

/** `handler`, answering UNAUTHENTICATED first when a token is set and the call lacks it. */
function withToken<H extends Unary>(token: string | undefined, name: string, handler: H): H {
  if (!token) return handler;
  return ((call, callback) => {
    const problem = grpcTokenProblem(call.metadata, token);
    if (problem) return callback({ code: grpc.status.UNAUTHENTICATED, details: `${name}: ${problem}` }, null);
    handler(call, callback);
  }) as H;
}

function portInUse(host: string, port: number): ControlPlaneError {
  return new ControlPlaneError(
    "PORT_IN_USE",
    `gRPC port ${port} on ${host} is already in use (another control plane?); stop it or pick another port with --grpc-port`,
  );
}

/** Resolves true when host:port cannot be bound because something else holds it. */
function tcpPortTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "EADDRINUSE"));
    probe.listen(port, host, () => probe.close(() => resolve(false)));
  });
}

/** Binds host:port (0 picks one); resolves to the port bound. Names the flag when the port is taken. */
export async function bindTcp(server: grpc.Server, host: string, port: number): Promise<number> {
  // Probing first gives the user our message instead of grpc-js's own "No address added" log line.
  if (port !== 0 && (await tcpPortTaken(host, port))) throw portInUse(host, port);
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (!err) return resolve(bound);
      if (/EADDRINUSE/.test(err.message)) return reject(portInUse(host, port));
      reject(
        new ControlPlaneError("UNREACHABLE", `cannot listen for gRPC on ${host}:${port}: ${err.message}`),
      );
    });
  });
}

/** Resolves true when something accepts connections on the unix socket at `path`. */
function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/**
 * Binds the unix socket: creates its folder (0755), removes a stale socket left by a killed control
 * plane (but refuses to steal a live one), and opens the socket to every user (0666) so sidecars
 * running as uid 1337 can connect.
 */
export async function bindUnix(server: grpc.Server, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  if (existsSync(path)) {
    if (!lstatSync(path).isSocket()) {
      throw new ControlPlaneError(
        "SOCKET_IN_USE",
        `${path} exists and is not a socket; remove it or pick another path with --grpc-socket`,
      );
    }
    if (await socketAlive(path)) {
      throw new ControlPlaneError(
        "SOCKET_IN_USE",
        `another process is listening on ${path}; stop it or pick another path with --grpc-socket`,
      );
    }
    unlinkSync(path);
  }
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (err) => {
      if (err) {
        reject(
          new ControlPlaneError(
            "UNREACHABLE",
            `cannot listen on ${path}: ${err.message}; check --grpc-socket`,
          ),
        );
        return;
      }
      resolve();
    });
  });
  chmodSync(path, 0o666);
}

/** Ends every call: a short grace for unary calls, then config streams are cut (sidecars reconnect). */
export function shutdownGrpc(server: grpc.Server, graceMs = 500): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
