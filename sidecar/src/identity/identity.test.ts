// The sidecar's side of mesh identity, each part against the real thing it must agree with: its
// signing request as OpenSSL reads it, the ClientHello classifier on what Node's TLS client sends,
// and the certificate source's states with a signing seam.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import test from "ava";
import { GrpcStatusError } from "../grpc/index";
import { plainDial } from "../tcp/dial";
import { certificateRequestPem } from "./csr";
import { classifyClientHello, identityOf, MESH_ALPN, meshDial } from "./mesh-tls";
import { WorkloadCertificates } from "./workload-certificate";

test("the signing request is one OpenSSL verifies, with the asked subject and URI SAN", (t) => {
  const d = mkdtempSync(join(tmpdir(), "weft-csr-"));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pem = certificateRequestPem(privateKey, "orders", "spiffe://weft/svc/orders");
  writeFileSync(join(d, "csr.pem"), pem);
  const out = execFileSync("openssl", ["req", "-in", join(d, "csr.pem"), "-verify", "-noout", "-text"], {
    stdio: ["ignore", "pipe", "pipe"],
  }).toString();
  t.regex(out, /Subject: CN\s?=\s?orders/);
  t.regex(out, /URI:spiffe:\/\/weft\/svc\/orders/);
  t.regex(out, /ecdsa-with-SHA256/);
});

/** The first bytes Node's TLS client sends with these ALPN protocols. */
async function clientHello(alpn: string[]): Promise<Buffer> {
  const server = createServer();
  const got = new Promise<Buffer>((resolve) =>
    server.once("connection", (s) => {
      s.once("data", (d) => {
        resolve(d);
        s.destroy();
      });
    }),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const c = tlsConnect({
    host: "127.0.0.1",
    port: (server.address() as AddressInfo).port,
    ALPNProtocols: alpn,
    rejectUnauthorized: false,
  });
  c.on("error", () => {});
  const bytes = await got;
  c.destroy();
  server.close();
  return bytes;
}

test("a ClientHello offering the mesh's ALPN is told from an app's own TLS and from plain text", async (t) => {
  const mesh = await clientHello([MESH_ALPN]);
  t.is(classifyClientHello(mesh), "mesh");
  t.is(classifyClientHello(await clientHello(["h2", "http/1.1"])), "other");
  t.is(classifyClientHello(await clientHello([])), "other");
  t.is(classifyClientHello(Buffer.from("GET / HTTP/1.1\r\n")), "other");
  // Arriving in pieces, it waits for the whole record.
  t.is(classifyClientHello(mesh.subarray(0, 3)), "more");
  t.is(classifyClientHello(mesh.subarray(0, mesh.length - 1)), "more");
  t.is(classifyClientHello(Buffer.alloc(0)), "more");
});

test("identities are read from the URI SAN only", (t) => {
  t.is(
    identityOf({ subjectaltname: "DNS:x, URI:spiffe://weft.local/ns/default/svc/a" } as never),
    "spiffe://weft.local/ns/default/svc/a",
  );
  t.is(identityOf({ subjectaltname: "URI:https://example.com" } as never), undefined);
  t.is(identityOf(undefined), undefined);
});

/** Signs a request as a CA would: OpenSSL, with a throwaway root, the identity as URI SAN. */
function opensslSign(csrPem: string, identity: string): { certificatePem: string; trustBundlePem: string[] } {
  const d = mkdtempSync(join(tmpdir(), "weft-cert-"));
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "ignore"] });
  try {
    const f = (name: string) => join(d, name);
    run(
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"].concat([
        "-keyout",
        f("ca.key"),
        "-out",
        f("ca.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=test root",
      ]),
    );
    writeFileSync(f("csr.pem"), csrPem);
    writeFileSync(f("ext"), `subjectAltName=URI:${identity}\n`);
    run(
      ["x509", "-req", "-in", f("csr.pem"), "-CA", f("ca.pem"), "-CAkey", f("ca.key")].concat([
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        f("ext"),
        "-out",
        f("leaf.pem"),
      ]),
    );
    return {
      certificatePem: readFileSync(f("leaf.pem"), "utf8"),
      trustBundlePem: [readFileSync(f("ca.pem"), "utf8")],
    };
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

const node = { id: "n", workload: "w", service: "orders" };

test("a control plane without a CA leaves the sidecar ready, in plain text, without asking again", async (t) => {
  let asked = 0;
  const logs: string[] = [];
  const certs = new WorkloadCertificates({
    controlPlane: "unused",
    node,
    log: (m) => logs.push(m),
    sign: async () => {
      asked++;
      throw new GrpcStatusError(12, "unknown service weft.v1.CertificateAuthority");
    },
  });
  t.teardown(() => certs.close());
  certs.start();
  await new Promise((r) => setTimeout(r, 50));
  t.true(certs.settled);
  t.is(certs.current, undefined);
  t.is(asked, 1);
  t.regex(certs.problem, /no certificate authority/);
});

test("failed requests are retried with backoff; after three the sidecar is ready without a certificate", async (t) => {
  let asked = 0;
  const certs = new WorkloadCertificates({
    controlPlane: "unused",
    node,
    log: () => {},
    sign: async (csr) => {
      asked++;
      if (asked <= 3) throw new GrpcStatusError(14, "connection refused");
      const identity = "spiffe://weft.local/ns/default/svc/orders";
      return { identity, ...opensslSign(csr, identity) };
    },
  });
  t.teardown(() => certs.close());
  certs.start();
  await new Promise((r) => setTimeout(r, 100));
  t.false(certs.settled, "not ready after one failure");
  t.regex(certs.problem, /connection refused/);
  // Retries at 0.5 s and 1 s: the third failure settles, the fourth request succeeds (at 2 s).
  await new Promise((r) => setTimeout(r, 1600));
  t.true(certs.settled);
  t.is(certs.current, undefined);
  for (let i = 0; i < 60 && !certs.current; i++) await new Promise((r) => setTimeout(r, 100));
  t.is(asked, 4);
  t.is(certs.current?.identity, "spiffe://weft.local/ns/default/svc/orders");
  t.is(certs.current?.trustDomain, "weft.local");
  t.is(certs.problem, "");
});

test("a certificate is asked for again at half its life, less up to a tenth of its life", async (t) => {
  const delays: number[] = [];
  let next: (() => void) | undefined;
  let asked = 0;
  const certs = new WorkloadCertificates({
    controlPlane: "unused",
    node,
    log: () => {},
    after: (ms, run) => {
      delays.push(ms);
      next = run;
      return () => {};
    },
    sign: async (csr) => {
      asked++;
      const identity = "spiffe://weft.local/ns/default/svc/orders";
      return { identity, ...opensslSign(csr, identity) };
    },
  });
  t.teardown(() => certs.close());
  certs.start();
  for (let i = 0; i < 100 && !certs.current; i++) await new Promise((r) => setTimeout(r, 20));
  const first = certs.current;
  // OpenSSL's -days 1: a day of life left, so the next ask is 9.6 to 12 hours away.
  const hours = (delays[0] ?? 0) / 3600_000;
  t.true(hours > 9.5 && hours <= 12, `asked again in ${hours} h`);
  next?.();
  for (let i = 0; i < 100 && certs.current === first; i++) await new Promise((r) => setTimeout(r, 20));
  t.is(asked, 2);
  t.not(certs.current?.serialNumber, first?.serialNumber, "the renewed certificate is in use");
  t.is(certs.issued, 2);
});

test("a connection dialed in plain text for want of a certificate is pooled apart from mutual TLS ones", async (t) => {
  const certs = new WorkloadCertificates({
    controlPlane: "unused",
    node,
    log: () => {},
    sign: async (csr) => {
      const identity = "spiffe://weft.local/ns/default/svc/orders";
      return { identity, ...opensslSign(csr, identity) };
    },
  });
  t.teardown(() => certs.close());
  let issued = false;
  const dial = meshDial(() => (issued ? certs.current : undefined));
  const mesh = { host: "10.1.2.3", port: 8080, meshTlsService: "reviews" };
  const plain = { ...mesh, meshTlsService: "" };
  // Before the certificate: the dial goes plain, so its connection is a plain one to reuse.
  t.is(dial.keyOf(mesh), dial.keyOf(plain));
  certs.start();
  for (let i = 0; i < 100 && !certs.current; i++) await new Promise((r) => setTimeout(r, 20));
  issued = true;
  t.not(dial.keyOf(mesh), dial.keyOf(plain), "once it is issued, plain connections are not reused for mTLS");
  t.is(dial.keyOf(plain), plainDial.keyOf(plain));
});
