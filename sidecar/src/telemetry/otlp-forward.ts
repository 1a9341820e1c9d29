// The workload's own OpenTelemetry SDK exports to 127.0.0.1:4317 (OTLP/gRPC) and :4318 (OTLP/HTTP),
// as SDKs do by default. A workload's netns cannot reach the host's loopback, so the sidecar listens
// there and pipes the bytes to the control plane over its unix sockets: gRPC to the socket the
// config stream uses (the control plane serves OTLP's services on it), HTTP to the control plane's
// OTLP/HTTP socket next to it. Byte pipes: nothing is parsed, so every OTLP encoding passes.
import { connect, createServer, type Server, type Socket } from "node:net";
import { grpcTarget, otlpHttpSocketFor } from "../../../proto/index";

export const OTLP_GRPC_PORT = 4317;
export const OTLP_HTTP_PORT = 4318;

/** Where a connection goes: a unix socket path, or host:port. */
type Upstream = { path: string } | { host: string; port: number };

function upstreamOf(target: string): Upstream | undefined {
  const t = grpcTarget(target);
  if (t.startsWith("unix:")) return { path: t.replace(/^unix:(\/\/)?/, "") };
  const m = /^(.+):(\d+)$/.exec(t);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

function pipeTo(upstream: Upstream, client: Socket): void {
  const server = connect({ ...upstream, allowHalfOpen: true });
  const fail = () => {
    client.destroy();
    server.destroy();
  };
  client.on("error", fail);
  server.on("error", fail);
  client.pipe(server);
  server.pipe(client);
}

export interface OtlpForwarders {
  /** The ports bound (a port already taken by the app is skipped, not fatal). */
  ports: number[];
  close(): void;
}

/** Listens on 127.0.0.1:4317 and :4318 (or the ports given) and forwards to the control plane. */
export async function startOtlpForwarders(o: {
  controlPlane: string;
  grpcPort?: number;
  httpPort?: number;
  /** Ports the workload declares: one it serves itself (a collector) is left to it. */
  appPorts: ReadonlySet<number> | ReadonlyMap<number, unknown>;
  log: (message: string) => void;
}): Promise<OtlpForwarders> {
  const servers: Server[] = [];
  const ports: number[] = [];
  const routes: Array<[number, Upstream | undefined]> = [
    [o.grpcPort ?? OTLP_GRPC_PORT, upstreamOf(o.controlPlane)],
    [
      o.httpPort ?? OTLP_HTTP_PORT,
      (() => {
        const path = otlpHttpSocketFor(o.controlPlane);
        return path ? { path } : undefined;
      })(),
    ],
  ];
  for (const [port, upstream] of routes) {
    if (!upstream || o.appPorts.has(port)) continue;
    const server = createServer({ allowHalfOpen: true }, (client) => pipeTo(upstream, client));
    const bound = await new Promise<number | undefined>((resolve) => {
      server.once("error", (err: Error) => {
        // The app serves this port itself (it may be a collector): it keeps it.
        o.log(`OTLP forwarding on 127.0.0.1:${port} is off: ${err.message}`);
        resolve(undefined);
      });
      server.listen(port, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
    if (bound === undefined) continue;
    servers.push(server);
    ports.push(bound);
  }
  return {
    ports,
    close: () => {
      for (const s of servers) s.close();
    },
  };
}
