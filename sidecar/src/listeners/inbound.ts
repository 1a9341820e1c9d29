// Inbound (15006): connections to the workload, redirected by iptables. They go to the app on
// 127.0.0.1 and the original port: the sidecar's uid is exempt from capture and loopback is not
// captured, so this does not loop back into 15006. The port's declared protocol (undeclared:
// "auto", detected) decides between the HTTP proxies and an opaque pipe.
import { createServer, type Server, type Socket } from "node:net";
import { fixedPlan } from "./fixed-plan";
import { isOwnDestination, type ListenerDeps } from "./routing";
import { serveConnection } from "./serve";

export function createInboundListener(deps: ListenerDeps): Server {
  return createServer({ allowHalfOpen: true, noDelay: true }, (socket) => handleInbound(deps, socket));
}

export function handleInbound(deps: ListenerDeps, socket: Socket): void {
  deps.track(socket);
  socket.once("close", deps.metrics.tcpConnection("inbound"));
  const dst = deps.originalDst(socket);
  if (!dst || isOwnDestination(deps, dst) || deps.ownPorts.has(dst.port)) {
    socket.destroy();
    return;
  }
  const host = deps.appHost ?? "127.0.0.1";
  const app = fixedPlan(host, dst.port);
  void serveConnection(deps, socket, {
    direction: "inbound",
    protocol: deps.declaredPorts.get(dst.port) ?? "auto",
    route: { service: deps.localService, plan: () => app },
  });
}
