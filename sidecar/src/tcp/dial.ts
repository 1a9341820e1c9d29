// How the proxies open a connection to an endpoint: plain TCP, or mutual TLS to the endpoint's
// sidecar when the plan says the endpoint has one (identity/mesh-tls.ts). The proxies write once
// `readyEvent` has fired: "connect" for plain TCP, "secureConnect" once a TLS handshake is done.
import { connect, type Socket } from "node:net";
import type { AttemptTarget } from "../upstream/plan";

export interface Dialed {
  socket: Socket;
  readyEvent: "connect" | "secureConnect";
}

export type Dial = (target: AttemptTarget, allowHalfOpen: boolean) => Dialed;

export const plainDial: Dial = (target, allowHalfOpen) => ({
  socket: connect({ host: target.host, port: target.port, noDelay: true, allowHalfOpen }),
  readyEvent: "connect",
});

/** The pool key of a target: connections in plain text and in mutual TLS are never mixed. */
export function connectionKey(target: AttemptTarget): string {
  return target.meshTlsService ? `${target.host}:${target.port}/mtls` : `${target.host}:${target.port}`;
}
