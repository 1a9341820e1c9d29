// The CA over HTTP: Consul's GET /v1/connect/ca/roots (what Consul's tooling reads to trust the
// mesh's certificates), and GET /api/v1/ca: the root, the trust domain, the mesh-wide mutual TLS
// mode (for the dashboard) and the last certificate issued to each sidecar (issued-certificates.ts).
import { type AuthorizationSpec, authorize } from "../../../proto/authorization-rules";
import type { MtlsMode } from "../../../proto/mtls-mode";
import type { Route } from "../api/http-server";
import { HttpError } from "../api/respond";
import type { MeshCa } from "./ca";
import type { IssuedCertificates } from "./issued-certificates";

export interface CaRouteOptions {
  /** The --mtls-mode services without their own spec.mtls get (shown by /api/v1/ca). */
  defaultMtlsMode: MtlsMode;
  /** A service's AuthorizationPolicy, for Consul's /v1/agent/connect/authorize. */
  authorizationFor(service: string): { name: string; spec: AuthorizationSpec } | undefined;
}

export function caRoutes(ca: MeshCa, issued: IssuedCertificates, o: CaRouteOptions): Route[] {
  const roots = {
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
  };
  return [
    { pattern: ["v1", "connect", "ca", "roots"], ...roots },
    { pattern: ["v1", "agent", "connect", "ca", "roots"], ...roots },
    {
      // Consul's agent leaf: a key and certificate for an app that does mutual TLS itself
      // (Consul's "native" integration); its peers are the mesh's sidecars, which trust the root.
      pattern: ["v1", "agent", "connect", "ca", "leaf", ":service"],
      consul: true,
      // A private key: with --token, only who holds the token gets one (else any local user could
      // take any service's identity).
      secret: true,
      answer: async ([service]) => {
        const leaf = await ca.issueWithKey(service!);
        return {
          SerialNumber: leaf.serialNumber.replace(/(..)(?!$)/g, "$1:").toLowerCase(),
          CertPEM: leaf.certificatePem,
          PrivateKeyPEM: leaf.privateKeyPem,
          Service: service,
          ServiceURI: leaf.identity,
          ValidAfter: leaf.notBefore.toISOString(),
          ValidBefore: leaf.notAfter.toISOString(),
          CreateIndex: 0,
          ModifyIndex: 0,
        };
      },
    },
    {
      // Consul's authorize: would the service's AuthorizationPolicy let this caller in? For a proxy
      // or app that checks callers itself. Only the connection is judged (no method or path), as
      // Consul's L4 intentions are.
      pattern: ["v1", "agent", "connect", "authorize"],
      consul: true,
      method: "POST",
      answer: (_p, _q, body) => {
        const b = body.json() as { Target?: unknown; ClientCertURI?: unknown };
        if (typeof b?.Target !== "string" || b.Target === "")
          throw new HttpError(400, "Target service must be specified");
        if (typeof b.ClientCertURI !== "string" || b.ClientCertURI === "")
          throw new HttpError(400, "ClientCertURI must be specified");
        const caller = consulCallerService(b.ClientCertURI, ca.trustDomain);
        if (!caller) {
          return {
            Authorized: false,
            Reason: `ClientCertURI "${b.ClientCertURI}" is not a service identity of trust domain ${ca.trustDomain}`,
          };
        }
        const policy = o.authorizationFor(b.Target);
        if (!policy)
          return {
            Authorized: true,
            Reason: `no AuthorizationPolicy for "${b.Target}": every caller is allowed`,
          };
        const d = authorize(policy.spec, caller);
        return {
          Authorized: d.allowed,
          Reason: `AuthorizationPolicy ${policy.name}, ${d.by}: ${d.allowed ? "allowed" : "denied"} for "${caller}"`,
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
          defaultMtlsMode: o.defaultMtlsMode,
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

/** The service of a caller's URI in our trust domain: Weft's (/ns/N/svc/S) or Consul's (/ns/N/dc/D/svc/S). */
function consulCallerService(uri: string, trustDomain: string): string | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/[^/]+(?:\/dc\/[^/]+)?\/svc\/([^/]+)$/.exec(uri);
  return m && m[1] === trustDomain ? m[2] : undefined;
}
