// One accepted connection, once a listener knows where it goes: by the port's protocol, either an
// opaque TCP pipe right away (tcp, server-first: the client may be waiting for the server to speak)
// or protocol detection first, then the HTTP/1.1 proxy, the HTTP/2 proxy, or a TCP pipe.
import type { Socket } from "node:net";
import type { Protocol } from "../config/types";
import { sniff } from "../detect/sniff";
import type { HttpRoute } from "../http/route";
import { connectThroughPlan } from "../tcp/connect";
import { pipeTcp } from "../tcp/pipe";
import type { Direction } from "../telemetry/metrics";
import { isRefusal } from "../upstream/plan";
import type { ListenerDeps } from "./routing";

export interface Destination {
  direction: Direction;
  protocol: Protocol;
  /** Per request (HTTP), or per connection (opaque TCP: `route.plan()` without a request). */
  route: HttpRoute;
}

/**
 * Never rejects: a connection whose handling fails in a way nothing expected is logged and closed,
 * alone. A rejection left unhandled ends the process, and with it every connection of the workload.
 */
export async function serveConnection(deps: ListenerDeps, socket: Socket, d: Destination): Promise<void> {
  try {
    await serve(deps, socket, d);
  } catch (err) {
    deps.log(
      `${d.direction} connection for ${d.route.service} from ${socket.remoteAddress ?? "?"} failed unexpectedly, closed: ${(err as Error).stack ?? err}`,
    );
    socket.destroy();
  }
}

async function serve(deps: ListenerDeps, socket: Socket, d: Destination): Promise<void> {
  if (d.protocol === "tcp" || d.protocol === "server-first") return tcp(deps, socket, d);
  const declared = d.protocol !== "auto";
  // A declared HTTP port waits as long as the HTTP header timeout; "auto" gives up quickly and pipes.
  const { kind, head } = await sniff(socket, declared ? deps.headerTimeoutMs : deps.detectTimeoutMs);
  if (kind === "closed" || socket.destroyed) return void socket.destroy();
  const http1 = d.direction === "inbound" ? deps.inboundHttp : deps.outboundHttp;
  const h2 = d.direction === "inbound" ? deps.inboundH2 : deps.outboundH2;
  if (kind === "h2") return (await h2()).handle(socket, d.route);
  if (kind === "http1" || (declared && !head)) return http1.handle(socket, d.route);
  await tcp(deps, socket, d, head);
}

async function tcp(deps: ListenerDeps, socket: Socket, d: Destination, head?: Buffer): Promise<void> {
  const plan = d.route.plan();
  const closing = (reason: string) => {
    deps.log(`${d.direction} tcp for ${d.route.service}: ${reason}; closing`);
    socket.destroy();
  };
  if (isRefusal(plan)) return closing(plan.message.trim());
  // The client may send or close while we connect: its bytes wait in the socket, errors are ignored.
  const ignore = () => {};
  socket.on("error", ignore);
  const connected = await connectThroughPlan(plan, deps.dial);
  socket.off("error", ignore);
  if (!connected.ok) return closing(connected.reason);
  if (socket.destroyed) {
    connected.closed();
    return void connected.upstream.destroy();
  }
  pipeTcp(socket, {
    host: connected.target.host,
    port: connected.target.port,
    upstream: connected.upstream,
    head,
    onBytes: (received, sent) => deps.metrics.tcpBytes(d.direction, received, sent),
    onClose: connected.closed,
  });
}
