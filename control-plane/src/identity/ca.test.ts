// The mesh CA: its root on disk, the certificates it signs from real OpenSSL signing requests, what
// it refuses, and the same over gRPC and HTTP from a running control plane.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer, connect as tlsConnect } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import test, { type ExecutionContext } from "ava";
import type { SignCertificateRequest } from "../../../proto/index";
import type { SqliteConfigStore } from "../config/index";
import { opensslCsr, signCertificate } from "../grpc-testing";
import { startTestControlPlane } from "../test-support";
import { MeshCa } from "./ca";

function dir(t: ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), "weft-ca-"));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test("the root is made once, kept with a key only root can read, and used again after a restart", async (t) => {
  const d = dir(t);
  const first = await MeshCa.open(join(d, "ca"));
  t.is(statSync(join(d, "ca", "root-key.pem")).mode & 0o777, 0o600);
  t.is(statSync(join(d, "ca")).mode & 0o777, 0o700);
  const again = await MeshCa.open(join(d, "ca"));
  t.is(again.root().id, first.root().id);
  const root = new X509Certificate(readFileSync(join(d, "ca", "root-cert.pem")));
  t.true(root.ca);
  t.is(root.subject, "O=weft\nCN=weft mesh root CA weft.local");
  t.true(new Date(root.validTo).getTime() > Date.now() + 9 * 365 * 24 * 3600_000);
});

test("a workload certificate names the service's SPIFFE ID, chains to the root and lives 24 h", async (t) => {
  const d = dir(t);
  const ca = await MeshCa.open(join(d, "ca"), "prod.example");
  // The identity is the CA's choice: what the request asks for is ignored.
  const issued = await ca.sign(opensslCsr(d, "/CN=admin"), "orders");
  t.is(issued.identity, "spiffe://prod.example/ns/default/svc/orders");
  const leaf = new X509Certificate(issued.certificatePem);
  const root = new X509Certificate(issued.trustBundlePem[0] as string);
  t.true(leaf.verify(root.publicKey));
  t.true(leaf.checkIssued(root));
  t.false(leaf.ca);
  t.is(leaf.subjectAltName, "URI:spiffe://prod.example/ns/default/svc/orders");
  const life = new Date(leaf.validTo).getTime() - Date.now();
  t.true(life > 23.9 * 3600_000 && life <= 24 * 3600_000, `lives ${life} ms`);
  // Usable by both ends of a connection, as OpenSSL reads it.
  const pem = join(d, "leaf.pem");
  writeFileSync(pem, issued.certificatePem);
  const text = execFileSync("openssl", ["x509", "-in", pem, "-noout", "-ext", "extendedKeyUsage"]).toString();
  t.regex(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
  const rootPem = join(d, "root.pem");
  writeFileSync(rootPem, issued.trustBundlePem[0] as string);
  t.regex(execFileSync("openssl", ["verify", "-CAfile", rootPem, pem]).toString(), /: OK/);
});

test("the asked lifetime is kept within 10 minutes and 24 hours", async (t) => {
  const d = dir(t);
  const ca = await MeshCa.open(join(d, "ca"));
  const lifeOf = async (seconds: number) => {
    const leaf = new X509Certificate((await ca.sign(opensslCsr(d), "a", seconds)).certificatePem);
    return Math.round((new Date(leaf.validTo).getTime() - Date.now()) / 60_000);
  };
  t.is(await lifeOf(3600), 60);
  t.is(await lifeOf(5), 10);
  t.is(await lifeOf(7 * 24 * 3600), 24 * 60);
});

test("a request that is not a CSR, or whose signature does not verify, is refused saying so", async (t) => {
  const d = dir(t);
  const ca = await MeshCa.open(join(d, "ca"));
  await t.throwsAsync(ca.sign("hello", "a"), { message: /csr_pem is not a PEM certificate signing request/ });
  // Flip a byte of the signature: the key in it did not sign it any more.
  const csr = opensslCsr(d);
  const der = Buffer.from(csr.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
  der[der.length - 3] = (der[der.length - 3] as number) ^ 0xff;
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
  await t.throwsAsync(ca.sign(tampered, "a"), { message: /signature does not verify/ });
});

test("a CA folder missing half its root stops the start, naming what to do", async (t) => {
  const d = dir(t);
  await MeshCa.open(join(d, "ca"));
  unlinkSync(join(d, "ca", "root-key.pem"));
  await t.throwsAsync(MeshCa.open(join(d, "ca")), {
    message: /holds only one of root-cert.pem and root-key.pem/,
  });
  writeFileSync(join(d, "ca", "root-key.pem"), "not a key");
  await t.throwsAsync(MeshCa.open(join(d, "ca")), { message: /cannot use the mesh CA/ });
});

test("a control plane signs over gRPC, refuses bad requests with what is wrong, and shows its roots", async (t) => {
  const cp = await startTestControlPlane(t);
  const d = dir(t);
  const r = await signCertificate(cp.grpcAddress, {
    node: { id: "orders-1.abc", workload: "orders-1", service: "orders" },
    csr_pem: opensslCsr(d),
  });
  t.is(r.identity, "spiffe://weft.local/ns/default/svc/orders");
  t.is(new X509Certificate(r.certificate_pem).subjectAltName, `URI:${r.identity}`);
  // Without a service the workload names the identity.
  const w = await signCertificate(cp.grpcAddress, {
    node: { id: "x", workload: "batch" },
    csr_pem: opensslCsr(d),
  });
  t.is(w.identity, "spiffe://weft.local/ns/default/svc/batch");

  const refused = async (request: SignCertificateRequest) => {
    const err = await t.throwsAsync(signCertificate(cp.grpcAddress, request));
    t.is((err as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
    return (err as grpc.ServiceError).details;
  };
  t.regex(
    await refused({ node: { id: "x" }, csr_pem: opensslCsr(d) }),
    /node.service \(or node.workload\) is required/,
  );
  t.regex(
    await refused({ node: { id: "x", service: "no/slash" }, csr_pem: opensslCsr(d) }),
    /not a valid service name/,
  );
  t.regex(await refused({ node: { id: "x", service: "orders" } }), /csr_pem is required/);
  t.regex(
    await refused({ node: { id: "x", service: "orders" }, csr_pem: "junk" }),
    /not a PEM certificate signing request/,
  );

  const roots = (await (await fetch(`http://${cp.httpAddress}/v1/connect/ca/roots`)).json()) as {
    ActiveRootID: string;
    TrustDomain: string;
    Roots: Array<{ ID: string; RootCert: string; Active: boolean }>;
  };
  t.is(roots.TrustDomain, "weft.local");
  t.is(roots.Roots.length, 1);
  t.is(roots.Roots[0]?.ID, roots.ActiveRootID);
  t.true(
    new X509Certificate(r.certificate_pem).verify(
      new X509Certificate(roots.Roots[0]?.RootCert ?? "").publicKey,
    ),
  );
  const view = (await (await fetch(`http://${cp.httpAddress}/api/v1/ca`)).json()) as {
    issued: Array<{ node: string; identity: string }>;
  };
  t.deepEqual(
    view.issued.map((i) => [i.node, i.identity]),
    [
      ["x", "spiffe://weft.local/ns/default/svc/batch"],
      ["orders-1.abc", "spiffe://weft.local/ns/default/svc/orders"],
    ],
  );
});

test("Consul's agent Connect endpoints: roots, a leaf an app can use, and authorize by AuthorizationPolicy", async (t) => {
  const cp = await startTestControlPlane(t);
  const get = async (path: string) =>
    (await fetch(`http://${cp.httpAddress}${path}`)).json() as Promise<Record<string, unknown>>;
  const roots = (await get("/v1/agent/connect/ca/roots")) as { Roots: Array<{ RootCert: string }> };
  const leaf = async (service: string) =>
    (await get(`/v1/agent/connect/ca/leaf/${service}`)) as {
      CertPEM: string;
      PrivateKeyPEM: string;
      ServiceURI: string;
    };
  const [api, web] = [await leaf("api"), await leaf("web")];
  t.is(web.ServiceURI, "spiffe://weft.local/ns/default/svc/web");
  // The two leaves do mutual TLS with each other, each checking the other against the roots.
  const ca = roots.Roots.map((r) => r.RootCert);
  const server = createTlsServer(
    { key: api.PrivateKeyPEM, cert: api.CertPEM, ca, requestCert: true, rejectUnauthorized: true },
    (s) => {
      s.end(`hello ${s.getPeerCertificate().subjectaltname}`);
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => server.close());
  const greeting = await new Promise<string>((resolve, reject) => {
    const c = tlsConnect({
      host: "127.0.0.1",
      port: (server.address() as AddressInfo).port,
      key: web.PrivateKeyPEM,
      cert: web.CertPEM,
      ca,
      checkServerIdentity: () => undefined,
    });
    let got = "";
    c.on("data", (d) => (got += d));
    c.on("end", () => resolve(got));
    c.on("error", reject);
  });
  t.is(greeting, "hello URI:spiffe://weft.local/ns/default/svc/web");

  const authorize = async (body: unknown) =>
    (
      await fetch(`http://${cp.httpAddress}/v1/agent/connect/authorize`, {
        method: "POST",
        body: JSON.stringify(body),
      })
    ).json();
  t.like(await authorize({ Target: "api", ClientCertURI: web.ServiceURI }), { Authorized: true });
  (cp.config as SqliteConfigStore).apply([
    {
      apiVersion: "weft.dev/v1",
      kind: "Service",
      metadata: { name: "api" },
      spec: { ports: [{ port: 8080 }] },
    },
    {
      apiVersion: "weft.dev/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "api-callers" },
      spec: { service: "api", rules: [{ action: "ALLOW", from: ["web"] }] },
    },
  ]);
  t.like(await authorize({ Target: "api", ClientCertURI: web.ServiceURI }), { Authorized: true });
  // Consul's own URI form (with a datacenter) names the same caller.
  const consulForm = "spiffe://weft.local/ns/default/dc/dc1/svc/batch";
  t.deepEqual(await authorize({ Target: "api", ClientCertURI: consulForm }), {
    Authorized: false,
    Reason: 'AuthorizationPolicy api-callers, defaultAction: denied for "batch"',
  });
  t.like(await authorize({ Target: "api", ClientCertURI: "spiffe://other.domain/ns/default/svc/web" }), {
    Authorized: false,
  });
  const bad = await fetch(`http://${cp.httpAddress}/v1/agent/connect/authorize`, {
    method: "POST",
    body: "{}",
  });
  t.is(bad.status, 400);
  t.regex(await bad.text(), /Target service must be specified/);
});
