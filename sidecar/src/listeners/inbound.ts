// Inbound (15006): connections to the workload, redirected by iptables. They go to the app on
// 127.0.0.1 and the original port: the sidecar's uid is exempt from capture and loopback is not
// captured, so this does not loop back into 15006. The port's declared protocol (undeclared:
// "auto", detected) decides between the HTTP proxies and an opaque pipe. HTTP requests over the
// service's rate limit (its ResiliencePolicy's rateLimit) are answered 429 here, before the app.
// First, peer admission: mutual TLS from other sidecars is terminated, plain text refused where the
// service is STRICT (peer-admission.ts).
import { createServer, type Server, type Socket } from "node:net";
import { peerIdentityOf } from "../identity/mesh-tls";
import { meshTlsFor } from "../upstream/index";
import type { RequestPlan } from "../upstream/plan";
import { checkAuthorization } from "./authorization";
import { fixedPlan } from "./fixed-plan";
import { PeerAdmission } from "./peer-admission";
import { InboundRateLimits } from "./rate-limits";
import { isOwnDestination, type ListenerDeps } from "./routing";
import { serveConnection } from "./serve";

export function createInboundListener(deps: ListenerDeps): Server {
  const limits = new InboundRateLimits(deps.metrics);
  const admission = new PeerAdmission(deps, deps.certificate);
  return createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
    handleInbound(deps, limits, admission, socket),
  );
}

function handleInbound(
  deps: ListenerDeps,
  limits: InboundRateLimits,
  admission: PeerAdmission,
  socket: Socket,
): void {
  deps.track(socket);
  socket.once("close", deps.metrics.tcpConnection("inbound"));
  const dst = deps.originalDst(socket);
  if (!dst || isOwnDestination(deps, dst) || deps.ownPorts.has(dst.port)) {
    socket.destroy();
    return;
  }
  const host = deps.appHost ?? "127.0.0.1";
  const app = fixedPlan(host, dst.port);
  const mode = deps.store.service(deps.localService)?.mtlsMode ?? "PERMISSIVE";
  if (!meshTlsFor(mode, deps.declaredPorts.get(dst.port) ?? "auto")) {
    // A server-first port of a PERMISSIVE service: the app greets at once, without waiting to see
    // whether a client speaks TLS (callers send plain text there; service-upstreams.ts).
    deps.metrics.meshConnection("inbound", "plaintext");
    serve(deps, limits, socket, app, dst.port);
    return;
  }
  admission.admit(socket, mode).then(
    (admitted) => {
      if (admitted) serve(deps, limits, admitted.socket, app, dst.port, admitted.silent);
    },
    (err: Error) => {
      // As serveConnection: this connection alone is closed, the sidecar goes on.
      deps.log(
        `inbound connection from ${socket.remoteAddress ?? "?"}: admission failed, closed: ${err.stack ?? err}`,
      );
      socket.destroy();
    },
  );
}

function serve(
  deps: ListenerDeps,
  limits: InboundRateLimits,
  socket: Socket,
  app: RequestPlan,
  port: number,
  silent = false,
): void {
  const service = deps.localService;
  const declared = deps.declaredPorts.get(port) ?? "auto";
  // The caller as its certificate proved it, for every request on this connection (h2's too).
  const peer = peerIdentityOf(socket);
  void serveConnection(deps, socket, {
    direction: "inbound",
    // A client silent through the mutual TLS wait already had its detection wait: it is TCP, as
    // detection would decide after waiting as long again (a server-first app greets it now).
    protocol: silent && declared === "auto" ? "tcp" : declared,
    route: {
      service,
      authority: `${service || (deps.appHost ?? "127.0.0.1")}:${port}`,
      plan: (req) => {
        const policy = deps.store.policyFor(service);
        return (
          checkAuthorization(deps.metrics, policy, service, peer, req) ||
          (req && limits.check(policy, service, req)) ||
          app
        );
      },
    },
  });
}
