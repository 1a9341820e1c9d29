// How the proxies open a connection to an endpoint: plain TCP, or mutual TLS to the endpoint's
// sidecar when the plan says the endpoint has one (identity/mesh-tls.ts). The proxies write once
// `readyEvent` has fired: "connect" for plain TCP, "secureConnect" once a TLS handshake is done.
import { connect, type Socket } from "node:net";
import type { AttemptTarget } from "../upstream/plan";

export interface Dialed {
  socket: Socket;
  readyEvent: "connect" | "secureConnect";
}

/** Where a dial goes: an attempt's target, or a mirror's (which has no per-connection limit). */
export type DialTarget = Pick<AttemptTarget, "host" | "port" | "meshTlsService">;

export interface Dial {
  (target: DialTarget, allowHalfOpen: boolean): Dialed;
  /**
   * The pool key of what dialing `target` now would open: connections in plain text and in mutual
   * TLS are never mixed. It follows the dial's own choice, so a connection opened in plain text
   * while no certificate was at hand is not reused for the target once one is.
   */
  keyOf(target: DialTarget): string;
}

function plainKey(target: DialTarget): string {
  return `${target.host}:${target.port}`;
}

/** A mutual TLS connection to the target's sidecar. */
export function meshKey(target: DialTarget): string {
  return `${target.host}:${target.port}/mtls`;
}

export const plainDial: Dial = Object.assign(
  (target: DialTarget, allowHalfOpen: boolean): Dialed => ({
    socket: connect({ host: target.host, port: target.port, noDelay: true, allowHalfOpen }),
    readyEvent: "connect",
  }),
  { keyOf: plainKey },
);
