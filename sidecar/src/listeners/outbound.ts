// Outbound (15001): the app's TCP connections, redirected by iptables. The original destination
// decides: a service VIP:port is balanced over the service's endpoints (HTTP through the proxy,
// else an opaque pipe); anything else passes through to where the app was going.
import { createServer, type Server, type Socket } from "node:net";
import type { ServiceTarget } from "../config/store";
import type { Resolution } from "../http/proxy";
import { pipeTcp } from "../tcp/pipe";
import { isOwnDestination, type ListenerDeps } from "./routing";

export function createOutboundListener(deps: ListenerDeps): Server {
  return createServer({ allowHalfOpen: true }, (socket) => handleOutbound(deps, socket));
}

export function handleOutbound(deps: ListenerDeps, socket: Socket): void {
  deps.track(socket);
  deps.metrics.tcpConnection("outbound");
  const dst = deps.originalDst(socket);
  if (!dst || isOwnDestination(deps, dst)) {
    // No redirect behind it (someone connected to 15001 directly): following it would loop.
    socket.destroy();
    return;
  }
  const target = deps.store.serviceAt(dst.address, dst.port);
  if (!target) {
    pipeTcp(socket, { host: dst.address, port: dst.port });
    return;
  }
  if (target.port.protocol === "http") {
    deps.outboundHttp.handle(socket, {
      service: target.service.name,
      resolve: () => pickUpstream(deps, target),
    });
    return;
  }
  const picked = pickUpstream(deps, target);
  if (!picked.ok) {
    deps.log(`outbound tcp to ${dst.address}:${dst.port}: ${picked.message.trim()}; closing`);
    socket.destroy();
    return;
  }
  pipeTcp(socket, { host: picked.host, port: picked.port });
}

/** Per request (HTTP) or per connection (TCP): the next healthy endpoint of the service. */
function pickUpstream(deps: ListenerDeps, target: ServiceTarget): Resolution {
  const name = target.service.name;
  const picked = deps.balancer.pick(name, deps.store.healthyEndpoints(name), target.port);
  if (!picked) {
    return {
      ok: false,
      status: 503,
      message: `no healthy endpoints for service "${name}" (port ${target.port.port})\n`,
    };
  }
  return { ok: true, host: picked.endpoint.address, port: picked.port };
}
