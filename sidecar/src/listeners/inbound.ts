// Inbound (15006): connections to the workload, redirected by iptables. They go to the app on
// 127.0.0.1 and the original port: the sidecar's uid is exempt from capture and loopback is not
// captured, so this does not loop back into 15006. Ports declared http go through the proxy.
import { createServer, type Server, type Socket } from "node:net";
import { pipeTcp } from "../tcp/pipe";
import { isOwnDestination, type ListenerDeps } from "./routing";

export function createInboundListener(deps: ListenerDeps): Server {
  return createServer({ allowHalfOpen: true }, (socket) => handleInbound(deps, socket));
}

export function handleInbound(deps: ListenerDeps, socket: Socket): void {
  deps.track(socket);
  deps.metrics.tcpConnection("inbound");
  const dst = deps.originalDst(socket);
  if (!dst || isOwnDestination(deps, dst) || deps.ownPorts.has(dst.port)) {
    socket.destroy();
    return;
  }
  const host = deps.appHost ?? "127.0.0.1";
  if (deps.declaredPorts.get(dst.port) === "http") {
    deps.inboundHttp.handle(socket, {
      service: deps.localService,
      resolve: () => ({ ok: true, host, port: dst.port }),
    });
    return;
  }
  pipeTcp(socket, { host, port: dst.port });
}
