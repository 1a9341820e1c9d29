// The sidecar's workload certificate: a P-256 key made here (it never leaves the process), a
// signing request to the control plane's CertificateAuthority, and the TLS contexts built from the
// answer. It asks again at half the certificate's life (with jitter, so sidecars started together
// do not ask together) and, when that fails, every few seconds with backoff until it works; the old
// certificate serves meanwhile. A control plane without a CA (UNIMPLEMENTED) leaves the sidecar
// without mutual TLS, which PERMISSIVE peers accept.
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext } from "node:tls";
import { decodeMessage, encodeMessage, grpcTarget, SCHEMA, type WireNode } from "../../../proto/index";
import { GrpcChannel, GrpcStatus, type GrpcStatusError } from "../grpc/index";
import { certificateRequestPem } from "./csr";

const SIGN_PATH = "/weft.v1.CertificateAuthority/SignCertificate";
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

export interface WorkloadCertificate {
  /** The SPIFFE ID the certificate names, e.g. spiffe://weft.local/ns/default/svc/orders. */
  identity: string;
  trustDomain: string;
  /** Our key and certificate, and the trust bundle peers are checked against: both directions. */
  context: SecureContext;
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
  certificatePem: string;
  trustBundlePem: string[];
}

/** Sends one signing request; the default goes over gRPC to the control plane. */
export type SignRequest = (csrPem: string) => Promise<{
  identity: string;
  certificatePem: string;
  trustBundlePem: string[];
}>;

export interface WorkloadCertificatesOptions {
  controlPlane: string;
  /** The control plane's --token (WEFT_TOKEN), sent as authorization; default none. */
  token?: string;
  node: WireNode;
  log: (message: string) => void;
  /** Seam for tests. Default: SignCertificate on the control plane. */
  sign?: SignRequest;
  /** Asked lifetime in seconds; 0: the control plane's default (24 h). */
  validitySeconds?: number;
  /** Seam for tests: runs the next request after `ms` (returns a cancel). Default: an unref'd timer. */
  after?: (ms: number, run: () => void) => () => void;
}

/** The trust domain of a SPIFFE ID ("" when it is not one). */
export function trustDomainOf(identity: string): string {
  return /^spiffe:\/\/([^/]+)\//.exec(identity)?.[1] ?? "";
}

export class WorkloadCertificates {
  private cert: WorkloadCertificate | undefined;
  private cancelNext: (() => void) | undefined;
  private channel: GrpcChannel | undefined;
  private closed = false;
  private failures = 0;
  private settledNow = false;
  private readonly sign: SignRequest;
  /** Why there is no certificate (for the admin page); "" once one came. */
  problem = "asking the control plane";
  /** How many certificates this sidecar got (the first and each renewal). */
  issued = 0;

  constructor(private readonly o: WorkloadCertificatesOptions) {
    this.sign = o.sign ?? ((csr) => this.signOverGrpc(csr));
  }

  /** The certificate in use, once one came. */
  get current(): WorkloadCertificate | undefined {
    return this.cert;
  }

  /** True once the first request ended: with a certificate, or with an answer that there is none. */
  get settled(): boolean {
    return this.settledNow;
  }

  start(): void {
    void this.renew();
  }

  close(): void {
    this.closed = true;
    this.cancelNext?.();
    this.channel?.close();
  }

  private async renew(): Promise<void> {
    if (this.closed) return;
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const service = this.o.node.service || this.o.node.workload || "";
    try {
      const csr = certificateRequestPem(privateKey, service, `spiffe://weft/svc/${service}`);
      const answer = await this.sign(csr);
      if (this.closed) return;
      const leaf = new X509Certificate(answer.certificatePem);
      const key = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
      const ca = answer.trustBundlePem;
      this.cert = {
        identity: answer.identity,
        trustDomain: trustDomainOf(answer.identity),
        context: createSecureContext({ key, cert: answer.certificatePem, ca, minVersion: "TLSv1.3" }),
        notBefore: new Date(leaf.validFrom),
        notAfter: new Date(leaf.validTo),
        serialNumber: leaf.serialNumber,
        certificatePem: answer.certificatePem,
        trustBundlePem: ca,
      };
      this.issued++;
      this.failures = 0;
      this.problem = "";
      this.settledNow = true;
      const now = Date.now();
      const life = this.cert.notAfter.getTime() - now;
      // Half the remaining life, minus up to a tenth of the life at random.
      this.schedule(Math.max(1000, life / 2 - Math.random() * (life / 10)));
    } catch (err) {
      if (this.closed) return;
      const e = err as Partial<GrpcStatusError> & Error;
      if (e.code === GrpcStatus.UNIMPLEMENTED) {
        // An older control plane: no CA to ask, so plain text, and nothing to retry.
        this.problem = "the control plane has no certificate authority (plain text only)";
        this.settledNow = true;
        this.o.log(`no workload certificate: ${this.problem}`);
        return;
      }
      this.failures++;
      this.problem = `the last request failed: ${e.message}`;
      // After a few tries the sidecar is ready without it; PERMISSIVE peers still take plain text.
      if (this.failures >= 3) this.settledNow = true;
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.failures - 1));
      if (this.failures === 1 || this.failures % 10 === 0) {
        this.o.log(`workload certificate request failed (${e.message}); retrying in ${delay} ms`);
      }
      this.schedule(delay);
    }
  }

  private schedule(ms: number): void {
    this.cancelNext?.();
    const run = () => void this.renew();
    this.cancelNext = this.o.after
      ? this.o.after(ms, run)
      : (() => {
          const timer = setTimeout(run, ms).unref();
          return () => clearTimeout(timer);
        })();
  }

  private async signOverGrpc(csrPem: string) {
    this.channel ??= new GrpcChannel(grpcTarget(this.o.controlPlane));
    const request = encodeMessage(SCHEMA, "SignCertificateRequest", {
      node: this.o.node,
      csr_pem: csrPem,
      validity_seconds: this.o.validitySeconds ?? 0,
    });
    const bytes = await this.channel.unary(SIGN_PATH, request, {
      timeoutMs: 10_000,
      ...(this.o.token ? { metadata: [["authorization", `Bearer ${this.o.token}`]] } : {}),
    });
    const r = decodeMessage(SCHEMA, "SignCertificateResponse", bytes) as {
      identity?: string;
      certificate_pem?: string;
      trust_bundle_pem?: string[];
    };
    if (!r.identity || !r.certificate_pem || !r.trust_bundle_pem?.length) {
      throw new Error("the control plane's answer lacks the identity, certificate or trust bundle");
    }
    return { identity: r.identity, certificatePem: r.certificate_pem, trustBundlePem: r.trust_bundle_pem };
  }
}
