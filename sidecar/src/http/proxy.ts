// HTTP/1.1 proxying for connections a listener has already accepted and routed. The listener
// hands the socket over with `handle(socket, route)`; an http.Server parses requests on it, and
// each request is resolved to an upstream (so requests on one client connection are balanced) and
// forwarded by http-proxy over keep-alive upstream connections.
import http from "node:http";
import type { Socket } from "node:net";
import httpProxy from "http-proxy";
import type { Direction, Metrics } from "../telemetry/metrics";
import { appendVia, viaEntry } from "./via";

export type Resolution =
  | { ok: true; host: string; port: number }
  | { ok: false; status: number; message: string };

/** What a listener decided for one connection. */
export interface HttpRoute {
  /** For metrics and messages. */
  service: string;
  /** Chooses the upstream for one request. */
  resolve(): Resolution;
}

export interface HttpProxyOptions {
  direction: Direction;
  /** Names this proxy in Via headers. */
  workload: string;
  metrics: Metrics;
  /** Upstream connection pool. Default: a keep-alive agent of its own. */
  agent?: http.Agent;
  log?: (message: string) => void;
}

export class HttpProxy {
  readonly agent: http.Agent;
  private readonly server: http.Server;
  private readonly proxy: httpProxy;
  private readonly routes = new WeakMap<Socket, HttpRoute>();
  private readonly via: string;
  private inFlight = 0;

  constructor(private readonly options: HttpProxyOptions) {
    this.agent = options.agent ?? new http.Agent({ keepAlive: true, maxSockets: 512, scheduling: "lifo" });
    this.via = viaEntry(options.workload, options.direction);
    this.proxy = httpProxy.createProxyServer({ agent: this.agent, xfwd: false, ws: true });
    this.proxy.on("proxyReq", (proxyReq) => {
      proxyReq.setHeader("via", appendVia(proxyReq.getHeader("via"), this.via));
      // Hop-by-hop: the client's "Connection: close" must not close our pooled upstream connection.
      if (!proxyReq.getHeader("upgrade")) proxyReq.setHeader("connection", "keep-alive");
    });
    this.proxy.on("proxyRes", (proxyRes) => {
      proxyRes.headers.via = appendVia(proxyRes.headers.via, this.via);
    });
    this.proxy.on("error", (err, req, res) => {
      const route = this.routes.get(req.socket);
      const message = `upstream for ${route?.service ?? "this request"} failed: ${err.message}\n`;
      if (res instanceof http.ServerResponse) this.reply(res, 502, message);
      else (res as Socket).destroy();
    });
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on("upgrade", (req, socket: Socket, head) => {
      const route = this.routes.get(req.socket);
      const target = route?.resolve();
      if (!target?.ok) return socket.destroy();
      this.proxy.ws(req, socket, head, { target: `http://${target.host}:${target.port}` });
    });
    this.server.on("clientError", (_err, socket) => socket.destroy());
  }

  /** Serves HTTP on an accepted socket that has not been read from. */
  handle(socket: Socket, route: HttpRoute): void {
    this.routes.set(socket, route);
    this.server.emit("connection", socket);
  }

  /** Requests being proxied right now. */
  get active(): number {
    return this.inFlight;
  }

  /** Closes client connections that sit idle between requests (for draining). */
  closeIdle(): void {
    this.server.closeIdleConnections();
  }

  /** Stops everything, in-flight or not. */
  close(): void {
    this.server.closeAllConnections();
    this.proxy.close();
    this.agent.destroy();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const route = this.routes.get(req.socket);
    const service = route?.service ?? "unknown";
    this.inFlight++;
    res.once("close", () => {
      this.inFlight--;
      this.options.metrics.request(this.options.direction, service, res.statusCode);
    });
    const target = route?.resolve() ?? { ok: false, status: 500, message: "no route for this connection\n" };
    if (!target.ok) {
      this.reply(res, target.status, target.message);
      return;
    }
    this.proxy.web(req, res, { target: `http://${target.host}:${target.port}` });
  }

  private reply(res: http.ServerResponse, status: number, body: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", via: this.via });
    res.end(body);
  }
}
