// One sidecar in a process of its own, on 127.0.0.1, with SO_ORIGINAL_DST replaced by a fixed
// destination (no iptables needed): what bench/sidecar.ts runs a pair of. Every port is picked by
// the OS; the ports go to stdout as one JSON line once listening.
// Usage: node --import tsx sidecar/src/testing/seam-sidecar.ts '{"controlPlane":..., "dst":{...}}'
import { WorkloadCertificates } from "../identity/workload-certificate";
import { startSidecar } from "../sidecar";

interface SeamArgs {
  controlPlane: string;
  workload: string;
  address: string;
  /** Where every accepted connection "was going". */
  dst: { address: string; port: number };
  /** The app's declared ports: [[port, protocol]]. */
  ports?: Array<[number, "auto" | "http" | "http2" | "grpc" | "tcp" | "server-first"]>;
  /** false: no tracing or access logs at all (the bench's baseline). Default: as in production. */
  telemetry?: boolean;
  /** Mutual TLS: the gRPC address of a control plane whose CA signs this sidecar's certificate, and
   * the service the certificate is for. Default: none (plain text). */
  mtls?: { certificateAuthority: string; service: string };
}

const args = JSON.parse(process.argv[2] ?? "{}") as SeamArgs;
const sidecar = await startSidecar(
  {
    controlPlane: args.controlPlane,
    nodeId: args.workload,
    workload: args.workload,
    address: args.address,
    service: args.workload,
    ports: new Map(args.ports ?? []),
    labels: {},
    dnsSearch: [],
    listen: { outbound: 0, inbound: 0, admin: 0, health: 0, metrics: 0, dns: 0 },
  },
  {
    originalDst: () => args.dst,
    listenHost: "127.0.0.1",
    log: (m) => console.error(m),
    ...(args.telemetry === false ? { hooks: {} } : {}),
    certificates: args.mtls
      ? new WorkloadCertificates({
          controlPlane: args.mtls.certificateAuthority,
          node: { id: args.workload, workload: args.workload, service: args.mtls.service },
          log: (m) => console.error(m),
        })
      : null,
  },
);
console.log(JSON.stringify(sidecar.ports));
process.once("SIGTERM", () => void sidecar.drain(1000).then(() => process.exit(0)));
