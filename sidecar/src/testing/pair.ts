// A sidecar pair on loopback for tests and the bench: a client-side sidecar (its outbound listener
// stands for the app's captured connections to the service VIP) and a server-side sidecar (its
// inbound listener stands for connections captured at the server's workload, delivered to the app
// on 127.0.0.1). The service's endpoint is the server sidecar's inbound listener, so every request
// crosses both sidecars, as between two workloads; SO_ORIGINAL_DST is a seam here.
import { type MtlsMode, TLS_MODE_LABEL, TLS_MODE_MUTUAL } from "../../../proto/mtls-mode";
import type { Protocol } from "../config/types";
import { WorkloadCertificates } from "../identity/workload-certificate";
import type { SidecarOptions } from "../options";
import { type RunningSidecar, startSidecar } from "../sidecar";
import { type FakeControlPlane, startFakeControlPlane } from "./wire-fake-control-plane";

export const PAIR_VIP = "10.96.7.7";
export const PAIR_SERVICE_PORT = 80;
const SERVER_ADDRESS = "10.88.7.3";

export interface SidecarPair {
  client: RunningSidecar;
  server: RunningSidecar;
  cp: FakeControlPlane;
  /** Where the app connects: the client sidecar's outbound listener (as if to VIP:80). */
  port: number;
  close(): Promise<void>;
}

export interface PairOptions {
  /** The server app's port on 127.0.0.1. */
  appPort: number;
  /** The service port's protocol. Default "auto". */
  protocol?: Protocol;
  /** Overrides for both sidecars (timeouts). */
  options?: Partial<SidecarOptions>;
  log?: (message: string) => void;
  /**
   * Mutual TLS between the two: the gRPC address of a control plane whose CA signs their
   * certificates (the fake control plane that pushes config has none), and the service's mode.
   * Default: no certificates, plain text. `serverIdentity`: the service the server sidecar's
   * certificate is issued for (default "server"; another name stands for an impostor endpoint).
   */
  mtls?: { certificateAuthority: string; mode?: MtlsMode; serverIdentity?: string };
}

export async function startPair(o: PairOptions): Promise<SidecarPair> {
  const cp = await startFakeControlPlane("127.0.0.1:0", { keepTelemetry: true });
  const log = o.log ?? (() => {});
  const base = (name: string, address: string): SidecarOptions => ({
    controlPlane: cp.target,
    nodeId: name,
    workload: name,
    address,
    service: name,
    ports: new Map(),
    labels: {},
    dnsSearch: [],
    listen: { outbound: 0, inbound: 0, admin: 0, health: 0, metrics: 0, dns: 0 },
    ...o.options,
  });
  const protocol = o.protocol ?? "auto";
  // The server's app declares its port as the service does (the runtime passes --port P/PROTO).
  const serverOptions = { ...base("server", SERVER_ADDRESS), ports: new Map([[o.appPort, protocol]]) };
  const certificates = (opts: SidecarOptions, service = opts.service) =>
    o.mtls
      ? new WorkloadCertificates({
          controlPlane: o.mtls.certificateAuthority,
          node: { id: opts.nodeId, workload: opts.workload, service, address: opts.address },
          log,
        })
      : null;
  const server = await startSidecar(serverOptions, {
    originalDst: () => ({ address: SERVER_ADDRESS, port: o.appPort }),
    listenHost: "127.0.0.1",
    log,
    certificates: certificates(serverOptions, o.mtls?.serverIdentity),
  });
  cp.pushServices(
    [
      {
        name: "server",
        virtual_ip: PAIR_VIP,
        ports: [{ name: "p", port: PAIR_SERVICE_PORT, protocol }],
        mtls_mode: o.mtls?.mode ?? "PERMISSIVE",
      },
    ],
    "1",
  );
  cp.pushEndpoints(
    {
      server: [
        {
          id: "server-1",
          service: "server",
          address: "127.0.0.1",
          ports: [{ name: "p", port: server.ports.inbound, protocol }],
          healthy: true,
          labels: o.mtls ? { [TLS_MODE_LABEL]: TLS_MODE_MUTUAL } : {},
        },
      ],
    },
    "1",
  );
  const clientOptions = base("client", "10.88.7.2");
  const client = await startSidecar(clientOptions, {
    originalDst: () => ({ address: PAIR_VIP, port: PAIR_SERVICE_PORT }),
    listenHost: "127.0.0.1",
    log,
    certificates: certificates(clientOptions),
  });
  const deadline = Date.now() + 10_000;
  // Ready as the runtime waits for before it starts an app: config in, tracing loaded.
  while (!(client.ready && server.ready)) {
    if (Date.now() > deadline) throw new Error("the sidecar pair was not ready within 10 s");
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    client,
    server,
    cp,
    port: client.ports.outbound,
    async close() {
      await client.drain(0);
      await server.drain(0);
      await cp.close();
    },
  };
}
