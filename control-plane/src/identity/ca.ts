// The mesh's certificate authority: one root key and certificate, made at the control plane's first
// start and kept in DATA_DIR/ca (the key readable by root only), and short-lived workload
// certificates signed from sidecars' requests. The identity is a SPIFFE ID the control plane
// chooses from who is asking; the request contributes only its public key, and its signature proves
// the sidecar holds the private half. An operator with a CA of their own puts its root-cert.pem and
// root-key.pem in that folder before the first start (Istio's "plug-in CA" cacerts).
import "reflect-metadata";
import { createHash, randomBytes, webcrypto } from "node:crypto";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { ControlPlaneError } from "../errors";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
const KEY = { name: "ECDSA", namedCurve: "P-256" } as const;
const ROOT_YEARS = 10;
/** Workload certificates: 24 h unless asked for less; at least 10 minutes. */
export const DEFAULT_VALIDITY_SECONDS = 24 * 3600;
const MIN_VALIDITY_SECONDS = 600;
/** Certificates start this much in the past, so a peer whose clock is a little behind accepts them. */
const BACKDATE_MS = 5 * 60_000;

export interface IssuedCertificate {
  identity: string;
  certificatePem: string;
  trustBundlePem: string[];
  notBefore: Date;
  notAfter: Date;
  /** Hex, as X.509 writes it. */
  serialNumber: string;
}

export interface CaRoot {
  /** Colon-separated SHA-256 of the certificate, as Consul's ca/roots shows its ID. */
  id: string;
  name: string;
  pem: string;
  notBefore: Date;
  notAfter: Date;
}

/** A service's SPIFFE ID; the trust domain is the mesh's (default "weft.local"). */
export function spiffeId(trustDomain: string, service: string): string {
  return `spiffe://${trustDomain}/ns/default/svc/${service}`;
}

export class MeshCa {
  private constructor(
    readonly trustDomain: string,
    private readonly rootCert: x509.X509Certificate,
    private readonly rootKey: CryptoKey,
  ) {}

  /** Loads the root from `dir`, or makes one there (the key file 0600) when it holds none. */
  static async open(dir: string, trustDomain = "weft.local"): Promise<MeshCa> {
    const certPath = join(dir, "root-cert.pem");
    const keyPath = join(dir, "root-key.pem");
    const haveCert = existsSync(certPath);
    if (haveCert !== existsSync(keyPath)) {
      throw new ControlPlaneError(
        "CA_INCOMPLETE",
        `${dir} holds only one of root-cert.pem and root-key.pem; put back the other (or remove both to make a new root, after which every workload certificate is issued again)`,
      );
    }
    if (haveCert) return MeshCa.load(certPath, keyPath, trustDomain);
    const keys = (await webcrypto.subtle.generateKey(KEY, true, ["sign", "verify"])) as CryptoKeyPair;
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `O=weft, CN=weft mesh root CA ${trustDomain}`,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + ROOT_YEARS * 365 * 24 * 3600_000),
      signingAlgorithm: SIGNING,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeAtomically(keyPath, pemOf("PRIVATE KEY", pkcs8), 0o600);
    writeAtomically(certPath, cert.toString("pem"), 0o644);
    return new MeshCa(trustDomain, cert, keys.privateKey);
  }

  private static async load(certPath: string, keyPath: string, trustDomain: string): Promise<MeshCa> {
    try {
      const cert = new x509.X509Certificate(readFileSync(certPath, "utf8"));
      const der = derOf(readFileSync(keyPath, "utf8"));
      const key = await webcrypto.subtle.importKey("pkcs8", der, KEY, false, ["sign"]);
      return new MeshCa(trustDomain, cert, key);
    } catch (err) {
      throw new ControlPlaneError(
        "CA_UNREADABLE",
        `cannot use the mesh CA in ${certPath} and ${keyPath} (an ECDSA P-256 key in PKCS#8 PEM and its certificate): ${(err as Error).message}`,
      );
    }
  }

  root(): CaRoot {
    return {
      id: fingerprint(this.rootCert),
      name: this.rootCert.subject,
      pem: this.rootCert.toString("pem"),
      notBefore: this.rootCert.notBefore,
      notAfter: this.rootCert.notAfter,
    };
  }

  /**
   * Signs a certificate for `service`'s SPIFFE ID over the public key of `csrPem`, after checking
   * the request's signature. Throws a ControlPlaneError (code BAD_CSR) naming what is wrong.
   */
  async sign(csrPem: string, service: string, validitySeconds = 0): Promise<IssuedCertificate> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (err) {
      throw new ControlPlaneError(
        "BAD_CSR",
        `csr_pem is not a PEM certificate signing request: ${(err as Error).message}`,
      );
    }
    if (!(await csr.verify().catch(() => false))) {
      throw new ControlPlaneError(
        "BAD_CSR",
        "the certificate signing request's signature does not verify with its own public key; sign it with the key it names",
      );
    }
    return this.issue(await csr.publicKey.export(), service, validitySeconds);
  }

  /**
   * A key pair made here and a certificate for it: Consul's agent leaf endpoint hands both to an
   * app that speaks mutual TLS itself. Sidecars never use this: their keys stay in the sidecar.
   */
  async issueWithKey(
    service: string,
    validitySeconds = 0,
  ): Promise<IssuedCertificate & { privateKeyPem: string }> {
    const keys = (await webcrypto.subtle.generateKey(KEY, true, ["sign", "verify"])) as CryptoKeyPair;
    const issued = await this.issue(keys.publicKey, service, validitySeconds);
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
    return { ...issued, privateKeyPem: pemOf("PRIVATE KEY", pkcs8) };
  }

  private async issue(
    publicKey: CryptoKey,
    service: string,
    validitySeconds: number,
  ): Promise<IssuedCertificate> {
    const identity = spiffeId(this.trustDomain, service);
    const asked = validitySeconds > 0 ? validitySeconds : DEFAULT_VALIDITY_SECONDS;
    const seconds = Math.min(Math.max(asked, MIN_VALIDITY_SECONDS), DEFAULT_VALIDITY_SECONDS);
    const now = Date.now();
    const notAfter = new Date(Math.min(now + seconds * 1000, this.rootCert.notAfter.getTime()));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `O=weft, CN=${service}`,
      issuer: this.rootCert.subject,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter,
      signingAlgorithm: SIGNING,
      publicKey,
      signingKey: this.rootKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        new x509.SubjectAlternativeNameExtension([{ type: "url", value: identity }], true),
        await x509.AuthorityKeyIdentifierExtension.create(this.rootCert, false),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ],
    });
    return {
      identity,
      certificatePem: cert.toString("pem"),
      trustBundlePem: [this.rootCert.toString("pem")],
      notBefore: cert.notBefore,
      notAfter,
      serialNumber: cert.serialNumber,
    };
  }
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive, as RFC 5280 wants
  return bytes.toString("hex");
}

function fingerprint(cert: x509.X509Certificate): string {
  return createHash("sha256")
    .update(Buffer.from(cert.rawData))
    .digest("hex")
    .replace(/(..)(?!$)/g, "$1:");
}

function pemOf(label: string, der: Buffer): string {
  const body = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${body.trimEnd()}\n-----END ${label}-----\n`;
}

function derOf(pem: string): Buffer {
  const m = /-----BEGIN [A-Z ]+-----([\s\S]+?)-----END/.exec(pem);
  if (!m) throw new Error("no PEM block");
  return Buffer.from((m[1] ?? "").replace(/\s+/g, ""), "base64");
}

function writeAtomically(path: string, content: string, mode: number): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode });
  chmodSync(temp, mode);
  renameSync(temp, path);
}
