// The CA over HTTP: Consul's GET /v1/connect/ca/roots (what Consul's tooling reads to trust the
// mesh's certificates), and GET /api/v1/ca: the root, the trust domain, the mesh-wide mutual TLS
// mode (for the dashboard) and the last certificate
// issued to each connected sidecar (kept in memory: sidecars ask again at half their certificate's
// life, so a restarted control plane learns them again within hours).
import type { MtlsMode } from "../../../proto/mtls-mode";
import type { Route } from "../api/http-server";
import type { MeshCa } from "./ca";
import type { IssuedRecord } from "./grpc-identity";

/** The last certificate issued per sidecar node id, newest first when listed; bounded. */
export class IssuedCertificates {
  private readonly byNode = new Map<string, IssuedRecord & { issuedAt: Date }>();
  constructor(private readonly max = 10_000) {}

  record(r: IssuedRecord): void {
    this.byNode.delete(r.node);
    this.byNode.set(r.node, { ...r, issuedAt: new Date() });
    if (this.byNode.size > this.max) this.byNode.delete(this.byNode.keys().next().value as string);
  }

  /** The valid certificate last issued to `node`, if any. */
  of(node: string): (IssuedRecord & { issuedAt: Date }) | undefined {
    const r = this.byNode.get(node);
    return r && r.notAfter.getTime() > Date.now() ? r : undefined;
  }

  list(): Array<IssuedRecord & { issuedAt: Date }> {
    const now = Date.now();
    return [...this.byNode.values()].filter((r) => r.notAfter.getTime() > now).reverse();
  }
}

/** `defaultMtlsMode`: the --mtls-mode services without their own spec.mtls get (shown by /api/v1/ca). */
export function caRoutes(ca: MeshCa, issued: IssuedCertificates, defaultMtlsMode: MtlsMode): Route[] {
  return [
    {
      pattern: ["v1", "connect", "ca", "roots"],
      consul: true,
      answer: () => {
        const root = ca.root();
        return {
          ActiveRootID: root.id,
          TrustDomain: ca.trustDomain,
          Roots: [
            {
              ID: root.id,
              Name: root.name,
              SerialNumber: 0,
              SigningKeyID: root.id,
              NotBefore: root.notBefore.toISOString(),
              NotAfter: root.notAfter.toISOString(),
              RootCert: root.pem,
              IntermediateCerts: null,
              Active: true,
              PrivateKeyType: "ec",
              PrivateKeyBits: 256,
            },
          ],
        };
      },
    },
    {
      pattern: ["api", "v1", "ca"],
      consul: false,
      answer: () => {
        const root = ca.root();
        return {
          trustDomain: ca.trustDomain,
          defaultMtlsMode,
          root: {
            id: root.id,
            subject: root.name,
            notBefore: root.notBefore.toISOString(),
            notAfter: root.notAfter.toISOString(),
            pem: root.pem,
          },
          issued: issued.list().map((r) => ({
            node: r.node,
            identity: r.identity,
            issuedAt: r.issuedAt.toISOString(),
            notAfter: r.notAfter.toISOString(),
          })),
        };
      },
    },
  ];
}
