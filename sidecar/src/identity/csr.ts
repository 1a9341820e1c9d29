// A PKCS#10 certificate signing request (RFC 2986) for an ECDSA P-256 key, in the few bytes of DER
// it takes, so that the sidecar needs no ASN.1 library to ask for its certificate. The control
// plane reads the public key and checks the signature; it chooses the identity itself, so the
// subject and the requested URI SAN are only what the sidecar believes it is.
import { createPublicKey, type KeyObject, sign } from "node:crypto";

const OID_COMMON_NAME = "2.5.4.3";
const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
const OID_SUBJECT_ALT_NAME = "2.5.29.17";
const OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2";

/** PEM of a CSR signed by `privateKey` (an EC key), asking for subject CN=`commonName` and a URI SAN. */
export function certificateRequestPem(privateKey: KeyObject, commonName: string, uri: string): string {
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const subject = seq(set(seq(oid(OID_COMMON_NAME), utf8(commonName))));
  const san = seq(tlv(0x86, Buffer.from(uri, "ascii"))); // GeneralNames { uniformResourceIdentifier }
  const extensions = seq(seq(oid(OID_SUBJECT_ALT_NAME), tlv(0x04, san)));
  const attributes = tlv(0xa0, seq(oid(OID_EXTENSION_REQUEST), set(extensions)));
  const info = seq(tlv(0x02, Buffer.from([0])), subject, spki, attributes);
  const signature = sign("sha256", info, privateKey); // DER ECDSA-Sig-Value
  const der = seq(info, seq(oid(OID_ECDSA_SHA256)), tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const body = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body.trimEnd()}\n-----END CERTIFICATE REQUEST-----\n`;
}

function tlv(tag: number, value: Buffer): Buffer {
  const n = value.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, value]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [40 * a + b];
  for (const n of rest) {
    const base128: number[] = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}
