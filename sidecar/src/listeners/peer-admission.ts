// Who may connect to the workload, by its service's mutual TLS mode (proto/mtls-mode.ts): a
// connection from another sidecar (a ClientHello offering the mesh's ALPN) is terminated with this
// sidecar's workload certificate and its caller's identity checked; plain text is taken unless the
// mode is STRICT. What comes out is the socket the inbound listener serves: the decrypted one for
// mutual TLS, the accepted one for plain text (an app's own TLS is plain text here: it passes).
import type { Socket } from "node:net";
import type { MtlsMode } from "../../../proto/mtls-mode";
import { acceptMeshTls, sniffMeshTls } from "../identity/mesh-tls";
import type { WorkloadCertificate } from "../identity/workload-certificate";
import { type ListenerDeps, limitedLog } from "./routing";

export class PeerAdmission {
  /** A refusal or failure is logged at most every 10 s per kind: a scanner must not flood the log. */
  private readonly warn: (outcome: string, message: string) => void;

  constructor(
    private readonly deps: ListenerDeps,
    private readonly certificate: () => WorkloadCertificate | undefined,
  ) {
    this.warn = limitedLog((m) => deps.log(m));
  }

  /**
   * The socket to serve, or undefined when the connection was refused or failed (and is closed).
   * `silent`: plain text from a client that sent nothing for the whole detection wait (a
   * server-first protocol): an "auto" port takes it as TCP without waiting a second time.
   */
  async admit(socket: Socket, mode: MtlsMode): Promise<{ socket: Socket; silent: boolean } | undefined> {
    const { deps } = this;
    // STRICT waits as long as a client may take to speak; otherwise a silent client (a
    // server-speaks-first protocol) is plain text after the short detection wait.
    const kind = await sniffMeshTls(socket, mode === "STRICT" ? deps.headerTimeoutMs : deps.detectTimeoutMs);
    if (kind === "closed" || socket.destroyed) {
      socket.destroy();
      return undefined;
    }
    const from = socket.remoteAddress ?? "?";
    if (kind === "mesh") {
      const cert = this.certificate();
      if (!cert) {
        // The caller's handshake fails, which it counts as a connect failure and retries elsewhere.
        return this.refuse(
          socket,
          "no-certificate",
          `closed a mutual TLS connection from ${from}: this sidecar has no workload certificate yet`,
        );
      }
      try {
        const tls = await acceptMeshTls(socket, cert, deps.headerTimeoutMs);
        deps.track(tls);
        deps.metrics.meshConnection("inbound", "mtls");
        return { socket: tls, silent: false };
      } catch (err) {
        return this.refuse(
          socket,
          "handshake-failed",
          `mutual TLS from ${from} failed: ${(err as Error).message}`,
        );
      }
    }
    if (mode === "STRICT") {
      return this.refuse(
        socket,
        "refused-plaintext",
        `refused a plain-text connection from ${from}: service "${deps.localService}" is STRICT (mutual TLS only); call it from a workload with a sidecar, or set its Service's spec.mtls to PERMISSIVE`,
      );
    }
    deps.metrics.meshConnection("inbound", "plaintext");
    return { socket, silent: kind === "silent" };
  }

  private refuse(socket: Socket, outcome: string, message: string): undefined {
    socket.destroy();
    this.deps.metrics.meshConnection("inbound", outcome);
    this.warn(outcome, message);
    return undefined;
  }
}
