// One HTTP/1.1 request through the proxy: refuse smuggling shapes, resolve, rewrite headers, stream
// the body upstream and the response back (pipe gives backpressure both ways), record the outcome.
import http from "node:http";
import type { Direction, Metrics } from "../telemetry/metrics";
import { type AttemptOutcome, type AttemptTarget, isRefusal, type RequestPlan } from "../upstream/plan";
import { smugglingProblem } from "./guard";
import { flat, forwardRequestHeaders, forwardResponseHeaders, headerValue, pairsOf } from "./headers";
import { delayThenForward, failureAnswer, failureOutcome, overflowHeaders } from "./plan-run";
import type { HttpRoute, RequestContext, RequestHooks, RequestInfo } from "./route";

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
  reply: (status: number, message: string, close: boolean, headers?: Record<string, string>) => void,
): { ctx: RequestContext; plan?: RequestPlan } {
  const pairs = pairsOf(req.rawHeaders);
  const info: RequestInfo = {
    method: req.method ?? "GET",
    path: req.url ?? "/",
    authority: headerValue(pairs, "host") ?? "",
    headers: pairs,
    protocol: "http1",
    clientAddress: req.socket.remoteAddress,
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
  const plan = route.plan(info);
  ctx.route = plan.route ?? "default";
  if (isRefusal(plan)) {
    ctx.error = plan.message.trim();
    reply(plan.status, plan.message, false, overflowHeaders(plan));
    return { ctx };
  }
  return { ctx, plan };
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
  const reply = (status: number, message: string, close: boolean, extra?: Record<string, string>) => {
    if (res.headersSent) return void res.destroy();
    const headers: Record<string, string> = {
      "content-type": "text/plain; charset=utf-8",
      via: flow.via,
      ...extra,
    };
    if (close || flow.draining) headers.connection = "close";
    res.writeHead(status, headers);
    res.end(message);
  };
  const { ctx, plan } = begin(flow, route, req, reply);
  // 499 (as nginx): the client went away before any response.
  res.once("close", () => finish(flow, ctx, res.headersSent ? res.statusCode : 499));
  if (!plan) return;
  const { headers, requestId } = forwardRequestHeaders(ctx.request.headers, {
    via: flow.via,
    // Outbound, the client is our own app: only the inbound side records who called.
    clientAddress: flow.direction === "inbound" ? (req.socket.remoteAddress ?? undefined) : undefined,
    proto: "http",
  });
  ctx.requestId = requestId;
  ctx.request.headers = headers;
  flow.hooks.onRequest?.(ctx);
  const length = headerValue(headers, "content-length");
  const chunked = req.headers["transfer-encoding"] !== undefined;
  if (length === undefined && !chunked && !BODYLESS.has(ctx.request.method))
    ctx.request.headers.push(["content-length", "0"]);
  // Only a request without a body can be sent again on this path (its body is streamed, not kept).
  const bodyless = !chunked && (length === undefined || Number(length) === 0);
  const exchange: Exchange = { flow, ctx, plan, req, res, reply, bodyless, startedAt: performance.now() };
  if (plan.timeoutMs > 0) {
    const timer = setTimeout(() => {
      ctx.error = `no response within the route's timeout of ${plan.timeoutMs} ms`;
      exchange.cancel?.();
      reply(504, "upstream request timeout\n", false);
    }, plan.timeoutMs);
    res.once("close", () => clearTimeout(timer));
    res.once("pipe", () => clearTimeout(timer));
  }
  // Wait a turn: llhttp parses a whole packet at once, so a malformed body that arrived with these
  // headers has already been refused (and this socket destroyed) before anything goes upstream.
  setImmediate(() => {
    if (req.socket.destroyed) return;
    delayThenForward(plan.fault, res, reply, () => attempt(exchange));
  });
}

interface Exchange {
  flow: RequestFlow;
  ctx: RequestContext;
  plan: RequestPlan;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  reply: (status: number, message: string, close: boolean, headers?: Record<string, string>) => void;
  bodyless: boolean;
  startedAt: number;
  /** Ends the attempt in flight (whole-request timeout). */
  cancel?: () => void;
}

/** One attempt: next endpoint, send, and either answer from it or (retry) start the next one. */
function attempt(x: Exchange): void {
  const { flow, ctx, plan, req, res, reply } = x;
  if (res.headersSent || res.destroyed) return;
  const target = plan.next();
  if (isRefusal(target)) {
    ctx.error = target.message.trim();
    return void reply(target.status, target.message, false, overflowHeaders(target));
  }
  ctx.upstream = `${target.host}:${target.port}`;
  const started = performance.now();
  let done = false;
  /** Tells the plan once how this attempt went; true when another attempt should follow. */
  const ended = (outcome: AttemptOutcome): boolean => {
    if (done) return false;
    done = true;
    clearTimeout(perTry);
    return plan.ended(target, outcome, x.bodyless && !res.headersSent && outcome.kind !== "cancelled");
  };
  const upstream = send(x, target);
  const perTry =
    plan.perTryTimeoutMs > 0
      ? setTimeout(() => {
          upstream.destroy();
          if (ended({ kind: "timeout" })) return attempt(x);
          ctx.error = `${ctx.upstream} did not answer within ${plan.perTryTimeoutMs} ms`;
          reply(504, "upstream request timeout\n", false);
        }, plan.perTryTimeoutMs)
      : undefined;
  x.cancel = () => {
    ended({ kind: "cancelled" });
    upstream.destroy();
  };
  upstream.on("response", (up) => {
    // This attempt was already given up (timeout, retry, cancel): its late answer is dropped.
    if (done) return void upstream.destroy();
    const status = up.statusCode ?? 502;
    if (ended({ kind: "response", status, latencyMs: performance.now() - started })) {
      up.resume();
      upstream.destroy();
      return attempt(x);
    }
    relay(flow, ctx, up, res);
  });
  upstream.on("error", (err) => {
    if (done) return;
    const outcome = failureOutcome(err);
    if (ended(outcome)) return attempt(x);
    ctx.error = err.message;
    const [status, message] = failureAnswer(outcome, ctx);
    reply(status, message, false);
  });
  // A client that goes away mid-exchange cancels the upstream request too.
  res.once("close", () => {
    if (!res.writableFinished) {
      ended({ kind: "cancelled" });
      upstream.destroy();
    }
  });
  if (req.readableEnded) upstream.end();
  else {
    req.on("data", (chunk: Buffer) => {
      ctx.bytesReceived = (ctx.bytesReceived ?? 0) + chunk.length;
    });
    req.pipe(upstream);
  }
}

function send(x: Exchange, target: AttemptTarget): http.ClientRequest {
  const upstream = http.request({
    host: target.host,
    port: target.port,
    method: x.ctx.request.method,
    path: x.ctx.request.path,
    headers: flat(x.ctx.request.headers),
    setHost: false,
    agent: x.flow.agent,
  });
  upstream.on("socket", (socket) => socket.setNoDelay(true));
  return upstream;
}

function relay(
  flow: RequestFlow,
  ctx: RequestContext,
  up: http.IncomingMessage,
  res: http.ServerResponse,
): void {
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
}
