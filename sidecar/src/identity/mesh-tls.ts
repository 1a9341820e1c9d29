// Mutual TLS between sidecars. The calling sidecar opens TLS 1.3 to the endpoint's sidecar with its
// workload certificate, offering the ALPN protocol "weft-mtls/1", and checks that the other side's
// certificate chains to the mesh's roots and names the service it meant to reach. The receiving
// sidecar tells a mesh connection from anything else by that ALPN in the ClientHello (an app's own
// TLS passes through untouched, as Istio's TLS inspector does), terminates it, and then handles
// the plain bytes inside as it handles any connection: protocol detection, HTTP or TCP, the app.
import type { Socket } from "node:net";
import { type ConnectionOptions, type PeerCertificate, TLSSocket, connect as tlsConnect } from "node:tls";
import { type Dial, type DialTarget, meshKey, plainDial } from "../tcp/dial";
import type { WorkloadCertificate } from "./workload-certificate";

export const MESH_ALPN = "weft-mtls/1";
const MESH_ALPN_BYTES = Buffer.from(MESH_ALPN);

/** A service's SPIFFE ID in a trust domain (the control plane's CA names them so). */
export function serviceIdentity(trustDomain: string, service: string): string {
  return `spiffe://${trustDomain}/ns/default/svc/${service}`;
}

/** The SPIFFE ID in a certificate's URI SAN, if it has one. */
export function identityOf(cert: PeerCertificate | undefined): string | undefined {
  for (const part of (cert?.subjectaltname ?? "").split(", ")) {
    if (part.startsWith("URI:spiffe://")) return part.slice(4);
  }
  return undefined;
}

/** Who called, for connections that came over mutual TLS (the inbound side's terminated sockets). */
const peers = new WeakMap<Socket, string>();

export function peerIdentityOf(socket: Socket): string | undefined {
  return peers.get(socket);
}

/**
 * Dials plain TCP, or mutual TLS where the target names a mesh service and a certificate is at
 * hand. Without a certificate (not yet issued, or no CA) it dials plain text, which a PERMISSIVE
 * peer takes and a STRICT one refuses.
 */
export function meshDial(
  certificate: () => WorkloadCertificate | undefined,
  /** Each connection to a mesh endpoint: "mtls", "plaintext" (no certificate) or "handshake-failed". */
  onOutcome: (outcome: string) => void = () => {},
): Dial {
  const dial = (target: DialTarget, allowHalfOpen: boolean) => {
    if (!target.meshTlsService) return plainDial(target, allowHalfOpen);
    const cert = certificate();
    if (!cert) {
      onOutcome("plaintext");
      return plainDial(target, allowHalfOpen);
    }
    const expected = serviceIdentity(cert.trustDomain, target.meshTlsService);
    const options: ConnectionOptions & { allowHalfOpen: boolean } = {
      host: target.host,
      port: target.port,
      secureContext: cert.context,
      ALPNProtocols: [MESH_ALPN],
      allowHalfOpen,
      rejectUnauthorized: true,
      checkServerIdentity: (_host, peer) => {
        const got = identityOf(peer);
        if (got === expected) return undefined;
        return new Error(
          `the endpoint's sidecar presented ${got ?? "no mesh identity"}, not ${expected}: is ${target.host} still an instance of "${target.meshTlsService}"?`,
        );
      },
    };
    // tls.connect hands allowHalfOpen to the TLSSocket it makes; its types leave it out.
    const socket = tlsConnect(options);
    socket.setNoDelay(true);
    let tcpUp = false;
    socket.once("connect", () => {
      tcpUp = true;
    });
    socket.once("secureConnect", () => onOutcome("mtls"));
    // Refused or unreachable is the plan's connect failure; a handshake that fails is counted here.
    socket.once("error", () => {
      if (tcpUp && !socket.authorized) onOutcome("handshake-failed");
    });
    return { socket, readyEvent: "secureConnect" as const };
  };
  return Object.assign(dial, {
    keyOf: (target: DialTarget) =>
      target.meshTlsService && certificate() ? meshKey(target) : plainDial.keyOf(target),
  });
}

/**
 * Terminates a mesh connection whose ClientHello is still in `socket` (pushed back by detection).
 * Resolves the decrypted socket once the caller's certificate checked out, with its identity
 * (peerIdentityOf), or rejects with why the handshake failed.
 */
export function acceptMeshTls(
  socket: Socket,
  cert: WorkloadCertificate,
  timeoutMs: number,
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = new TLSSocket(socket, {
      isServer: true,
      secureContext: cert.context,
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: [MESH_ALPN],
    });
    const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      tls.destroy();
      socket.destroy();
      reject(err);
    };
    tls.once("error", fail);
    // What goes wrong underneath reaches the TLS socket, whose owner handles it; the accepted socket
    // must not throw it a second time with nobody listening.
    socket.on("error", () => {});
    tls.once("secure", () => {
      clearTimeout(timer);
      tls.off("error", fail);
      const identity = identityOf(tls.getPeerCertificate());
      if (!identity) return fail(new Error("the caller's certificate names no SPIFFE identity"));
      peers.set(tls, identity);
      // Only a tls.Server clears this for the sockets it accepts; node:http2 reads it to decide to
      // wait for a handshake that, on a socket wrapped by hand, has already happened.
      (tls as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
      resolve(tls);
    });
    socket.resume();
  });
}

export type TlsSniffed = "mesh" | "other" | "more";

/**
 * Classifies the first bytes of a connection: a TLS ClientHello offering MESH_ALPN ("mesh"),
 * anything else ("other"), or too little to tell yet ("more"). Only the first record is read.
 */
export function classifyClientHello(b: Buffer): TlsSniffed {
  if (b.length === 0) return "more";
  if (b[0] !== 0x16) return "other"; // not a TLS handshake record
  if (b.length < 5) return "more";
  const recordEnd = 5 + b.readUInt16BE(3);
  if (b.length < recordEnd) return recordEnd > 5 + 16_384 ? "other" : "more";
  let at = 5;
  if (b[at] !== 0x01) return "other"; // not a ClientHello
  at += 4 + 2 + 32; // handshake header, client version, random
  const need = (n: number) => at + n <= recordEnd;
  if (!need(1)) return "other";
  at += 1 + (b[at] as number); // session id
  if (!need(2)) return "other";
  at += 2 + b.readUInt16BE(at); // cipher suites
  if (!need(1)) return "other";
  at += 1 + (b[at] as number); // compression methods
  if (!need(2)) return "other";
  const extensionsEnd = Math.min(recordEnd, at + 2 + b.readUInt16BE(at));
  at += 2;
  while (at + 4 <= extensionsEnd) {
    const type = b.readUInt16BE(at);
    const length = b.readUInt16BE(at + 2);
    at += 4;
    if (type === 16 && at + 2 <= extensionsEnd) {
      // ALPN: a 2-byte list length, then protocols each with a 1-byte length.
      const listEnd = Math.min(extensionsEnd, at + 2 + b.readUInt16BE(at));
      for (let p = at + 2; p < listEnd; ) {
        const n = b[p] as number;
        if (b.subarray(p + 1, p + 1 + n).equals(MESH_ALPN_BYTES)) return "mesh";
        p += 1 + n;
      }
      return "other";
    }
    at += length;
  }
  return "other";
}

/**
 * Reads until the first bytes say whether this is a mesh TLS connection, then pauses the socket with
 * the bytes pushed back. "silent": nothing came within timeoutMs (a server-speaks-first client);
 * a TLS record still incomplete then is "other".
 */
export function sniffMeshTls(socket: Socket, timeoutMs: number): Promise<TlsSniffed | "silent" | "closed"> {
  return new Promise((resolve) => {
    let seen: Buffer = Buffer.alloc(0);
    const finish = (kind: TlsSniffed | "silent" | "closed") => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onEnd);
      socket.off("close", onEnd);
      socket.pause();
      if (kind !== "closed" && seen.length > 0) socket.unshift(seen);
      resolve(kind);
    };
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const kind = classifyClientHello(seen);
      if (kind !== "more") finish(kind);
    };
    // Only before the bytes decided: nothing came, or part of a TLS record the client never finished.
    const onEnd = () => finish("closed");
    const timer = setTimeout(() => finish(seen.length > 0 ? "other" : "silent"), timeoutMs);
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("error", onEnd);
    socket.once("close", onEnd);
    socket.resume();
  });
}
