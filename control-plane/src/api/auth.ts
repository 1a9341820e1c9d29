// Bearer-token check for the HTTP API. Only mutations need the token (docs/INTERFACES.md "HTTP auth"),
// so dashboards, Consul watchers and Prometheus keep reading without one.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HttpError } from "./respond";

/** GET and HEAD read; everything else changes state and needs the token when one is set. */
export function isMutation(method: string | undefined): boolean {
  return method !== "GET" && method !== "HEAD";
}

/** The token a request carries: `Authorization: Bearer T` or Consul's `X-Consul-Token: T`. */
function presentedToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === "string") {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  const consul = req.headers["x-consul-token"];
  return typeof consul === "string" && consul !== "" ? consul : undefined;
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // Constant time, so the token cannot be guessed byte by byte from response times.
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Throws a 401 naming the flag when `token` is set and a mutating request does not carry it;
 * `secret`: a read that hands out a credential (a service's key), which needs it too.
 */
export function requireToken(req: IncomingMessage, token: string | undefined, secret = false): void {
  if (!token || !(secret || isMutation(req.method))) return;
  const given = presentedToken(req);
  if (given === undefined) {
    throw new HttpError(
      401,
      `${secret ? `${req.method} of a secret` : req.method} needs a token: this control plane runs with --token (WEFT_TOKEN); send "Authorization: Bearer TOKEN" or "X-Consul-Token: TOKEN" (the CLI sends --token / WEFT_TOKEN)`,
    );
  }
  if (!sameSecret(given, token)) {
    throw new HttpError(
      401,
      "the token does not match the control plane's --token (WEFT_TOKEN); check the token you send",
    );
  }
}
