// HTTP/1.1 proxying for connections a listener has already accepted and routed. The listener
// hands the socket over with `handle(socket, route)`; one http.Server parses requests on every such
// socket (strict llhttp, header and idle timeouts), each request is checked for smuggling shapes
// (guard.ts), resolved to an upstream (so requests on one client connection are balanced), and
// forwarded over pooled keep-alive connections with its body streamed both ways (pipe: backpressure,
// never buffered whole). WebSocket and other upgrades are piped both ways after the 101.
import http from "node:http";
import type { Socket } from "node:net";
import type { Direction, Metrics } from "../telemetry/metrics";
import { guardedRequest, type RequestFlow } from "./flow";
import type { HttpRoute, RequestHooks } from "./route";
import { upgrade } from "./upgrade";
import { viaEntry } from "./via";

export type { HttpRoute } from "./route";

export interface HttpProxyOptions {
  direction: Direction;
  /** Names this proxy in Via headers. */
  workload: string;
  metrics: Metrics;
  /** Upstream connection pool. Default: a keep-alive agent of its own. */
  agent?: http.Agent;
  /** A client must finish sending request headers within this. Default 10000 ms. */
  headerTimeoutMs?: number;
  /** A connection with no bytes either way for this long is closed. Default 300000 ms. */
  idleTimeoutMs?: number;
  hooks?: RequestHooks;
  log?: (message: string) => void;
}

export class HttpProxy {
  readonly agent: http.Agent;
  private readonly server: http.Server;
  private readonly routes = new WeakMap<Socket, HttpRoute>();
  private readonly flow: RequestFlow;
  private inFlight = 0;

  constructor(options: HttpProxyOptions) {
    this.agent =
      options.agent ??
      // Free upstream sockets are dropped after 4 s: Node apps close idle keep-alive at 5 s, and
      // reusing a socket the app is closing would fail the request.
      new http.Agent({
        keepAlive: true,
        maxSockets: 1024,
        scheduling: "lifo",
        timeout: 4000,
        // Passed on to net.connect: small writes (headers, then body) must not wait on delayed ACKs.
        noDelay: true,
      } as http.AgentOptions);
    const idle = options.idleTimeoutMs ?? 300_000;
    this.server = http.createServer({
      headersTimeout: options.headerTimeoutMs ?? 10_000,
      requestTimeout: 0, // a long upload is fine as long as bytes keep coming (idle timeout)
      keepAliveTimeout: Math.min(idle, 60_000),
      connectionsCheckingInterval: 1000,
      joinDuplicateHeaders: false,
    });
    this.server.timeout = idle;
    // This server never listens (listeners hand it sockets), but Node starts its connection
    // tracking (header timeout, closeIdleConnections) on 'listening': start it now.
    this.server.emit("listening");
    this.flow = {
      direction: options.direction,
      via: viaEntry(options.workload, options.direction),
      agent: this.agent,
      metrics: options.metrics,
      hooks: options.hooks ?? {},
      draining: false,
    };
    this.server.on("request", (req, res) => this.onRequest(req, res));
    this.server.on("upgrade", (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      const route = this.routes.get(req.socket);
      if (route) upgrade(this.flow, route, req, socket, head);
      else socket.destroy();
    });
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
      // Malformed requests (llhttp: bad chunk size, CL with TE, bad characters) and header timeouts.
      const pending = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
      if (err.code === "ECONNRESET" || !socket.writable || pending?.headersSent) return socket.destroy();
      const timeout = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
      const body = timeout ? "request headers not received in time\n" : `bad request: ${err.message}\n`;
      socket.end(
        `HTTP/1.1 ${timeout ? "408 Request Timeout" : "400 Bad Request"}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nvia: ${this.flow.via}\r\n\r\n${body}`,
      );
    });
  }

  /** Serves HTTP on an accepted socket (bytes read by detection are back in it). */
  handle(socket: Socket, route: HttpRoute): void {
    this.routes.set(socket, route);
    this.server.emit("connection", socket);
    socket.resume();
  }

  /** Requests being proxied right now. */
  get active(): number {
    return this.inFlight;
  }

  /** From now on every response says `Connection: close`; idle connections are closed now. */
  startDrain(): void {
    this.flow.draining = true;
    this.server.closeIdleConnections();
  }

  /** Closes client connections that sit idle between requests (for draining). */
  closeIdle(): void {
    this.server.closeIdleConnections();
  }

  /** Stops everything, in-flight or not. */
  close(): void {
    this.server.closeAllConnections();
    this.server.close();
    this.agent.destroy();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const route = this.routes.get(req.socket);
    this.inFlight++;
    res.once("close", () => this.inFlight--);
    if (!route) {
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end("no route for this connection\n");
      return;
    }
    guardedRequest(this.flow, route, req, res);
  }
}
