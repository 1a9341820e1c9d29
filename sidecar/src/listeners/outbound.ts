// Outbound (15001): the app's TCP connections, redirected by iptables. The original destination
// decides: a service VIP:port goes through the service's routes and load balancer (upstream/), per
// request for HTTP, per connection for an opaque pipe; anything else passes through to where the
// app was going. The first connection to a service subscribes to it and waits for its endpoints.
import { createServer, type Server, type Socket } from "node:net";
import type { ServiceTarget } from "../config/store";
import type { RequestInfo } from "../http/route";
import { pipeTcp } from "../tcp/pipe";
import { isOwnDestination, type ListenerDeps, limitedLog } from "./routing";
import { serveConnection } from "./serve";

export function createOutboundListener(deps: ListenerDeps): Server {
  const warn = limitedLog((m) => deps.log(m));
  return createServer({ allowHalfOpen: true, noDelay: true }, (socket) => handleOutbound(deps, socket, warn));
}

/** `warn`: the listener's rate-limited log (limitedLog), shared by its connections. */
function handleOutbound(
  deps: ListenerDeps,
  socket: Socket,
  warn: (key: string, message: string) => void,
): void {
  deps.track(socket);
  socket.once("close", deps.metrics.tcpConnection("outbound"));
  const dst = deps.originalDst(socket);
  if (!dst || isOwnDestination(deps, dst)) {
    // No redirect behind it (someone connected to 15001 directly): following it would loop.
    socket.destroy();
    return;
  }
  const target = deps.store.serviceAt(dst.address, dst.port);
  const vipOf = target ? undefined : deps.store.serviceWithVip(dst.address);
  if (vipOf) {
    // A service's virtual IP on a port it does not serve: no host has that address to pass through to.
    socket.destroy();
    const ports = vipOf.ports.map((p) => `${p.port}/${p.protocol}`).join(", ") || "none";
    warn(
      `${dst.address}:${dst.port}`,
      `outbound connection to ${dst.address}:${dst.port} closed: that is service "${vipOf.name}"'s virtual IP, and the service has no port ${dst.port} (its ports: ${ports}); call one of those, or declare the port (weft run --port, ports: in weft.yaml, or the Service's spec.ports)`,
    );
    return;
  }
  if (!target) {
    // Not a mesh destination: passed through untouched (the config model has no egress policy yet).
    pipeTcp(socket, {
      host: dst.address,
      port: dst.port,
      onBytes: (received, sent) => deps.metrics.tcpBytes("outbound", received, sent),
    });
    return;
  }
  const name = target.service.name;
  // Endpoints may have come without asking (a full push); routes and policy still need the ask.
  deps.want(name);
  if (deps.store.hasEndpoints(name)) {
    routeToService(deps, socket, target, false);
    return;
  }
  // First use of this service: subscribe to its endpoints and hold the connection until they
  // arrive (the app's bytes wait in the socket), or give up after endpointsWaitMs.
  const ignore = () => {}; // a client that gives up while held must not crash the sidecar
  socket.on("error", ignore);
  deps.store.waitForEndpoints(name, deps.endpointsWaitMs).then(
    (arrived) => {
      socket.off("error", ignore);
      if (socket.destroyed) return;
      routeToService(deps, socket, target, !arrived);
    },
    (err: Error) => {
      deps.log(
        `outbound connection to ${name}: waiting for its endpoints failed, closed: ${err.stack ?? err}`,
      );
      socket.destroy();
    },
  );
}

function routeToService(deps: ListenerDeps, socket: Socket, target: ServiceTarget, timedOut: boolean): void {
  const name = target.service.name;
  const plan = (request?: RequestInfo) =>
    timedOut && !deps.store.hasEndpoints(name)
      ? {
          status: 503,
          message: `no endpoints for service "${name}" yet: the control plane did not send them within ${deps.endpointsWaitMs} ms\n`,
        }
      : deps.upstreams.plan({
          service: name,
          servicePort: target.port,
          endpoints: deps.store.healthyEndpoints(name),
          routes: deps.store.routesFor(name),
          policy: deps.store.policyFor(name),
          request,
          clientAddress: socket.remoteAddress,
          mtlsMode: target.service.mtlsMode,
        });
  void serveConnection(deps, socket, {
    direction: "outbound",
    protocol: target.port.protocol,
    route: { service: name, plan, authority: `${name}:${target.port.port}` },
  });
}
