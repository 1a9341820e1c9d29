// Inbound (15006): connections to the workload, redirected by iptables. They go to the app on
// 127.0.0.1 and the original port: the sidecar's uid is exempt from capture and loopback is not
// captured, so this does not loop back into 15006. The port's declared protocol (undeclared:
// "auto", detected) decides between the HTTP proxies and an opaque pipe. HTTP requests over the
// service's rate limit (its ResiliencePolicy's rateLimit) are answered 429 here, before the app.
import { createServer, type Server, type Socket } from "node:net";
import { fixedPlan } from "./fixed-plan";
import { InboundRateLimits } from "./rate-limits";
import { isOwnDestination, type ListenerDeps } from "./routing";
import { serveConnection } from "./serve";

export function createInboundListener(deps: ListenerDeps): Server {
  const limits = new InboundRateLimits(deps.metrics);
  return createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
    handleInbound(deps, limits, socket),
  );
}

function handleInbound(deps: ListenerDeps, limits: InboundRateLimits, socket: Socket): void {
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
    route: {
      service: deps.localService,
      plan: (req) =>
        (req && limits.check(deps.store.policyFor(deps.localService), deps.localService, req)) || app,
    },
  });
}
