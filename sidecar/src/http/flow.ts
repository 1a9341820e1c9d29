// One HTTP/1.1 request through the proxy: refuse smuggling shapes, resolve, rewrite headers, stream
// the body upstream and the response back (pipe gives backpressure both ways), record the outcome.
import http from "node:http";
import type { Direction, Metrics } from "../telemetry/metrics";
import { smugglingProblem } from "./guard";
import { flat, forwardRequestHeaders, forwardResponseHeaders, headerValue, pairsOf } from "./headers";
import type { HttpRoute, RequestContext, RequestHooks, RequestInfo, Resolution } from "./route";

/** What every request of one proxy shares. */
export interface RequestFlow {
  direction: Direction;
  via: string;
  agent: http.Agent;
  metrics: Metrics;
  hooks: RequestHooks;
  /** Set on drain: responses carry `Connection: close`. */
  draining: boolean;
}

/** Methods whose empty body Node would otherwise send as `Transfer-Encoding: chunked`. */
const BODYLESS = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"]);

/** Builds the context, runs the smuggling checks and the route; no target when already answered. */
export function begin(
  flow: RequestFlow,
  route: HttpRoute,
  req: http.IncomingMessage,
  reply: (status: number, message: string, close: boolean) => void,
): { ctx: RequestContext; target?: Extract<Resolution, { ok: true }> } {
  const pairs = pairsOf(req.rawHeaders);
  const info: RequestInfo = {
    method: req.method ?? "GET",
    path: req.url ?? "/",
    authority: headerValue(pairs, "host") ?? "",
    headers: pairs,
    protocol: "http1",
  };
  const ctx: RequestContext = {
    direction: flow.direction,
    service: route.service,
    route: "default",
    requestId: headerValue(pairs, "x-request-id") ?? "",
    request: info,
    startedAt: performance.now(),
  };
  const problem = smugglingProblem(pairs, req.httpVersion);
  if (problem) {
    // The connection is closed too: after a request we cannot frame, nothing on it can be trusted.
    ctx.error = problem;
    reply(400, `bad request: ${problem}\n`, true);
    return { ctx };
  }
  const target = route.resolve(info);
  ctx.route = target.route ?? "default";
  if (!target.ok) {
    ctx.error = target.message.trim();
    reply(target.status, target.message, false);
    return { ctx };
  }
  return { ctx, target };
}

export function finish(flow: RequestFlow, ctx: RequestContext, status: number): void {
  if (ctx.durationMs !== undefined) return;
  ctx.status = status;
  ctx.durationMs = performance.now() - ctx.startedAt;
  flow.metrics.request({
    direction: ctx.direction,
    service: ctx.service,
    route: ctx.route,
    code: status,
    durationMs: ctx.durationMs,
  });
  flow.hooks.onComplete?.(ctx);
}

export function guardedRequest(
  flow: RequestFlow,
  route: HttpRoute,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const reply = (status: number, message: string, close: boolean) => {
    if (res.headersSent) return void res.destroy();
    const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8", via: flow.via };
    if (close || flow.draining) headers.connection = "close";
    res.writeHead(status, headers);
    res.end(message);
  };
  const { ctx, target } = begin(flow, route, req, reply);
  // 499 (as nginx): the client went away before any response.
  res.once("close", () => finish(flow, ctx, res.headersSent ? res.statusCode : 499));
  if (!target) return;
  const { headers, requestId } = forwardRequestHeaders(ctx.request.headers, {
    via: flow.via,
    // Outbound, the client is our own app: only the inbound side records who called.
    clientAddress: flow.direction === "inbound" ? (req.socket.remoteAddress ?? undefined) : undefined,
    proto: "http",
  });
  ctx.requestId = requestId;
  ctx.request.headers = headers;
  ctx.upstream = `${target.host}:${target.port}`;
  flow.hooks.onRequest?.(ctx);
  const framed =
    headerValue(headers, "content-length") !== undefined || req.headers["transfer-encoding"] !== undefined;
  if (!framed && !BODYLESS.has(ctx.request.method)) ctx.request.headers.push(["content-length", "0"]);
  // Wait a turn: llhttp parses a whole packet at once, so a malformed body that arrived with these
  // headers has already been refused (and this socket destroyed) before anything goes upstream.
  setImmediate(() => {
    if (req.socket.destroyed) return;
    forward(flow, ctx, target, req, res, reply);
  });
}

function forward(
  flow: RequestFlow,
  ctx: RequestContext,
  target: { host: string; port: number },
  req: http.IncomingMessage,
  res: http.ServerResponse,
  reply: (status: number, message: string, close: boolean) => void,
): void {
  const upstream = http.request({
    host: target.host,
    port: target.port,
    method: ctx.request.method,
    path: ctx.request.path,
    headers: flat(ctx.request.headers),
    setHost: false,
    agent: flow.agent,
  });
  upstream.on("socket", (socket) => socket.setNoDelay(true));
  upstream.on("response", (up) => {
    const out = forwardResponseHeaders(pairsOf(up.rawHeaders), flow.via);
    if (flow.draining) out.push(["connection", "close"]);
    res.writeHead(up.statusCode ?? 502, up.statusMessage, flat(out));
    up.on("end", () => {
      if (up.rawTrailers.length > 0) res.addTrailers(pairsOf(up.rawTrailers));
    });
    up.on("data", (chunk: Buffer) => {
      ctx.bytesSent = (ctx.bytesSent ?? 0) + chunk.length;
    });
    up.pipe(res);
    up.on("error", () => res.destroy());
  });
  upstream.on("error", (err) => {
    ctx.error = err.message;
    reply(502, `upstream ${ctx.upstream} for ${ctx.service} failed: ${err.message}\n`, false);
  });
  // A client that goes away mid-exchange cancels the upstream request too.
  res.once("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.on("data", (chunk: Buffer) => {
    ctx.bytesReceived = (ctx.bytesReceived ?? 0) + chunk.length;
  });
  req.pipe(upstream);
}
