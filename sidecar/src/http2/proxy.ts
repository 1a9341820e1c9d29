// HTTP/2 with prior knowledge (h2c) and gRPC, through node:http2 on both sides. Each client stream
// becomes a stream on a pooled upstream session (one per upstream address, multiplexed). Request
// and response bodies are piped (flow control gives backpressure); response trailers (grpc-status)
// are carried; a reset on either side resets the other (cancellation), and a grpc-timeout is both
// forwarded and enforced here, so a deadline holds even if the upstream ignores it.

import http2 from "node:http2";
import type { Socket } from "node:net";
import { applyHeaderEdits, type HeaderEdits, joined, SINGLE_VALUE_FIELDS } from "../config/header-edits";
import { forwardRequestHeaders, type HeaderPairs, rewriteHost } from "../http/headers";
import { MIRROR_TIMEOUT_MS, type Mirrors, shadowAuthority, statusClass } from "../http/mirror";
import { delayThenForward, failureAnswer, failureOutcome } from "../http/plan-run";
import { type HttpRoute, type RequestContext, type RequestInfo, requestContext } from "../http/route";
import { peerIdentityOf } from "../identity/mesh-tls";
import { type Dial, type DialTarget, plainDial } from "../tcp/dial";
import {
  type AttemptOutcome,
  isRefusal,
  type MirrorTarget,
  type Refusal,
  type RequestPlan,
  refusalHeaders,
} from "../upstream/plan";
import { finish, type H2Flow } from "./flow";
import { grpcTimeoutMs, isGrpc, plainAnswer } from "./grpc";

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;
const END_STREAM = 0x1;
/** Connection-specific fields (RFC 9113 §8.2.2), dropped at each hop: what node:http2 refuses to send
 * (HTTP2-Settings too). TE is one of them unless it is "trailers", which goes on: gRPC clients send
 * it, and grpc-java's OkHttp server refuses a call without it (its Netty server logs a warning). */
const DROP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
]);

const KEEP_TE = ["te"];

function hopByHop(name: string, value: string): boolean {
  return DROP.has(name) || (name === "te" && value.trim().toLowerCase() !== "trailers");
}

/**
 * node:http2's errors for a head it will not send (a field it forbids, a value with a control
 * character, a second value of a single-value field, a bad status): thrown before anything is
 * written, so the stream can still be answered. Other errors (a session that closed meanwhile) are
 * the connection's.
 */
function refusedHead(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  return (
    code === "ERR_INVALID_CHAR" ||
    code === "ERR_INVALID_HTTP_TOKEN" ||
    (code.startsWith("ERR_HTTP2_") && /HEADER|PSEUDO|STATUS|CONNECT_|INVALID_INFO/.test(code))
  );
}

export interface H2ProxyOptions {
  flow: H2Flow;
  /** A session with no streams and no frames for this long is closed. Default 300000 ms. */
  idleTimeoutMs?: number;
  /** How upstream connections are opened. Default: plain TCP. */
  dial?: Dial;
  /** Where a stream's unexpected failure is told. Default: nowhere. */
  log?: (message: string) => void;
}

export class H2Proxy {
  private readonly server: http2.Http2Server;
  private readonly routes = new WeakMap<http2.Http2Session, HttpRoute>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly pool = new Map<string, http2.ClientHttp2Session>();
  /** When each pooled session finished connecting (TCP, and TLS to a peer sidecar). */
  private readonly readyAt = new WeakMap<http2.ClientHttp2Session, number>();
  private pendingRoute: HttpRoute | undefined;
  private pendingPeer: string | undefined;
  /** Inbound sessions that came over mutual TLS: the caller's identity. */
  private readonly peers = new WeakMap<http2.Http2Session, string>();
  private inFlight = 0;

  constructor(private readonly options: H2ProxyOptions) {
    this.server = http2.createServer({ settings: { enablePush: false } });
    this.server.setTimeout(options.idleTimeoutMs ?? 300_000);
    // 'session' fires synchronously inside emit("connection"): that is how a session finds its route.
    this.server.on("session", (session: http2.ServerHttp2Session) => {
      if (this.pendingRoute) this.routes.set(session, this.pendingRoute);
      if (this.pendingPeer) this.peers.set(session, this.pendingPeer);
      this.sessions.add(session);
      session.on("close", () => this.sessions.delete(session));
      session.on("error", () => {});
      if (this.options.flow.draining) session.close();
    });
    this.server.on("stream", (stream, headers, flags) => {
      try {
        this.onStream(stream, headers, flags);
      } catch (err) {
        // One stream's unexpected failure resets that stream; thrown out of this handler it
        // would end the sidecar and every connection of its workload.
        this.options.log?.(`http2: stream failed: ${(err as Error).message}`);
        stream.close(NGHTTP2_INTERNAL_ERROR);
      }
    });
  }

  /** Serves h2c on an accepted socket whose first bytes (the preface) are back in it. */
  handle(socket: Socket, route: HttpRoute): void {
    this.pendingRoute = route;
    this.pendingPeer = peerIdentityOf(socket);
    this.server.emit("connection", socket);
    this.pendingRoute = undefined;
    this.pendingPeer = undefined;
  }

  get active(): number {
    return this.inFlight;
  }

  /** GOAWAY on every client session: streams in flight finish, new ones go elsewhere. */
  startDrain(): void {
    this.options.flow.draining = true;
    for (const s of this.sessions) s.close();
  }

  close(): void {
    for (const s of this.sessions) s.destroy();
    for (const s of this.pool.values()) s.destroy();
    this.pool.clear();
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number): void {
    const flow = this.options.flow;
    const route = this.routes.get(stream.session as http2.ServerHttp2Session);
    stream.on("error", () => {});
    const pairs = pairsOf(headers);
    const grpc = isGrpc(headers["content-type"]);
    const info: RequestInfo = {
      method: String(headers[":method"] ?? "GET"),
      path: String(headers[":path"] ?? "/"),
      authority: String(headers[":authority"] ?? headers.host ?? ""),
      headers: pairs,
      protocol: "h2",
      grpc,
      clientAddress: stream.session?.socket?.remoteAddress,
      peerIdentity: stream.session ? this.peers.get(stream.session) : undefined,
    };
    const ctx = requestContext(flow.direction, route?.service ?? "unknown", "", info);
    this.inFlight++;
    let status = 0;
    stream.once("close", () => {
      this.inFlight--;
      finish(flow, ctx, status || 499);
    });
    // The same shape as HTTP/1.1's (plan-run.ts): `headers` mark an injected fault or an overflow.
    const answer: Answer = (code, message, _close, headers, grpcStatus) => {
      status = code;
      ctx.error = message.trim();
      if (stream.headersSent || stream.closed) return void stream.close(NGHTTP2_CANCEL);
      plainAnswer(stream, code, message, grpc, flow.via, grpcStatus, headers);
    };
    if (!route) {
      answer(500, "no route for this connection\n");
      return;
    }
    if (info.method === "CONNECT") {
      // As on HTTP/1.1: a tunnel is not something the sidecar forwards (node:http2 would refuse to
      // send it upstream with the :path every forwarded request gets).
      ctx.error = "CONNECT is not supported";
      return void answer(
        405,
        "CONNECT is not supported by the sidecar; connect to the destination directly\n",
      );
    }
    const plan = route.plan(info);
    ctx.route = plan.route ?? "default";
    if (isRefusal(plan)) {
      // Traced too, as in the HTTP/1.1 path: the span says why the sidecar answered itself.
      flow.hooks.onRequest?.(ctx);
      if (plan.location === undefined)
        return void answer(plan.status, plan.message, false, refusalHeaders(plan), refusalGrpcStatus(plan));
      // A route's redirect: an answer, not an error.
      status = plan.status;
      plainAnswer(stream, plan.status, plan.message, grpc, flow.via, undefined, { location: plan.location });
      return;
    }
    const setStatus = (code: number) => {
      status = code;
    };
    const grpcTimeout = headers["grpc-timeout"];
    delayThenForward(plan.fault, stream, answer, () =>
      this.forward({
        stream,
        flags,
        ctx,
        plan,
        answer,
        setStatus,
        grpcDeadlineMs: grpc ? grpcTimeoutMs(grpcTimeout) : undefined,
      }),
    );
  }

  /**
   * Prepares the upstream request once (forwarded headers, the telemetry hook), then runs attempts.
   * A request body is streamed, not kept, so only an attempt that never connected (nothing read
   * from the client yet) can be retried; that covers a replica that refuses connections.
   */
  private forward(r: H2Request): void {
    const flow = this.options.flow;
    const { stream, ctx } = r;
    if (stream.closed) return;
    // TE is kept: pairsOf let only "trailers" through, the one value HTTP/2 allows.
    const forwarded = forwardRequestHeaders(
      ctx.request.headers,
      {
        via: flow.via,
        clientAddress: ctx.request.clientAddress,
        proto: "http",
        peerIdentity: flow.direction === "inbound" ? (ctx.request.peerIdentity ?? "") : undefined,
      },
      KEEP_TE,
    );
    ctx.requestId = forwarded.requestId;
    const edits = r.plan.headers?.request;
    ctx.request.headers = edits ? applyHeaderEdits(forwarded.headers, edits) : forwarded.headers;
    const rewrite = r.plan.rewrite;
    if (rewrite?.authority !== undefined) rewriteHost(ctx.request.headers, rewrite.authority, false);
    flow.hooks.onRequest?.(ctx);
    // The span and the access log keep what the client sent; upstream gets the rewritten request.
    const out: http2.OutgoingHttpHeaders = {
      ":method": ctx.request.method,
      ":path": rewrite?.target ?? ctx.request.path,
      ":authority": rewrite?.authority ?? ctx.request.authority,
      ":scheme": "http",
    };
    for (const [name, value] of ctx.request.headers) addHeader(out, name, value);
    const mirror = r.plan.mirror;
    if (mirror && flow.mirrors) {
      // Only a request without a body: one is streamed, never held, so there is nothing to copy.
      if (r.flags & END_STREAM) this.mirror(flow.mirrors, ctx.service, mirror, out);
      else flow.mirrors.skipped(ctx.service, mirror);
    }
    this.attempt(r, out);
  }

  /** A copy of a bodiless request for the route's mirror, over HTTP/2 as the request came; its
   * answer is dropped. */
  private mirror(
    mirrors: Mirrors,
    service: string,
    target: MirrorTarget,
    out: http2.OutgoingHttpHeaders,
  ): void {
    const end = mirrors.begin(service, target);
    if (!end) return;
    let copy: http2.ClientHttp2Stream;
    try {
      copy = this.session(target).request(
        { ...out, ":authority": shadowAuthority(String(out[":authority"])) },
        { endStream: true },
      );
    } catch {
      return void end("error");
    }
    let outcome = "error";
    copy.setTimeout(MIRROR_TIMEOUT_MS, () => copy.close(NGHTTP2_CANCEL));
    copy.on("response", (h) => {
      outcome = statusClass(Number(h[":status"] ?? 0));
    });
    copy.on("error", () => {
      outcome = "error";
    });
    copy.on("close", () => end(copy.rstCode && copy.rstCode !== NGHTTP2_NO_ERROR ? "error" : outcome));
    copy.resume();
  }

  /** One attempt at the next target the plan gives, with the request prepared by forward(). */
  private attempt(r: H2Request, out: http2.OutgoingHttpHeaders): void {
    const { stream, flags, ctx, plan, answer, setStatus, grpcDeadlineMs } = r;
    const flow = this.options.flow;
    if (stream.closed) return;
    const target = plan.next();
    if (isRefusal(target))
      return void answer(
        target.status,
        target.message,
        false,
        refusalHeaders(target),
        refusalGrpcStatus(target),
      );
    const grpc = ctx.request.grpc === true;
    ctx.upstream = `${target.host}:${target.port}`;
    const started = performance.now();
    let session: http2.ClientHttp2Session | undefined;
    let ended = false;
    /** Nothing of the client's body has gone into this attempt yet: it can be made again. */
    let replayable = true;
    const end = (outcome: AttemptOutcome): boolean => {
      if (ended) return false;
      ended = true;
      const again = plan.ended(target, outcome, replayable && !stream.closed);
      if (again) ctx.retries++;
      return again;
    };
    /** Set once the next attempt has taken over: this one's late events change nothing. */
    let superseded = false;
    const retry = () => {
      superseded = true;
      this.attempt(r, out);
    };

    let up: http2.ClientHttp2Stream;
    try {
      session = this.session(target);
      up = session.request(out, { endStream: (flags & END_STREAM) !== 0 });
    } catch (err) {
      const message = (err as Error).message;
      if (refusedHead(err)) {
        // The request, not the endpoint: not retried, and nothing counted against the endpoint.
        // With the route's edits it is the route's doing (a second value of a single-value field).
        end({ kind: "cancelled" });
        if (r.plan.headers?.request)
          answer(500, `the request as route ${ctx.route} edits it cannot be sent over HTTP/2: ${message}\n`);
        else answer(400, `bad request: it cannot be sent over HTTP/2: ${message}\n`);
        return;
      }
      if (end({ kind: "connect-failure", error: message })) return void retry();
      answer(502, `upstream ${ctx.upstream} for ${ctx.service} failed: ${message}\n`);
      return;
    }
    // The tightest of the client's grpc-timeout and the route's timeouts.
    const limits = [grpcDeadlineMs, plan.timeoutMs || undefined, plan.perTryTimeoutMs || undefined].filter(
      (n): n is number => n !== undefined,
    );
    const deadline = limits.length > 0 ? Math.min(...limits) : undefined;
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(() => {
            // Only the per-try timeout (when it is the tightest) may be retried, as on HTTP/1.1; the
            // request's own deadline ends it.
            const perTry =
              plan.perTryTimeoutMs > 0 &&
              deadline === plan.perTryTimeoutMs &&
              deadline <
                Math.min(
                  grpcDeadlineMs ?? Number.POSITIVE_INFINITY,
                  plan.timeoutMs || Number.POSITIVE_INFINITY,
                );
            const again = end(perTry ? { kind: "timeout" } : { kind: "cancelled" });
            // Answered here (or retried): the stream's close (CANCEL) must not reset the 504.
            superseded = true;
            up.close(NGHTTP2_CANCEL);
            if (again) return void retry();
            if (stream.headersSent) stream.close(NGHTTP2_CANCEL);
            else plainAnswer(stream, 504, "deadline exceeded\n", grpc, flow.via, 4);
            setStatus(504);
          }, deadline);
    let trailers: http2.IncomingHttpHeaders | undefined;
    up.on("response", (h, upFlags: number) => {
      const status = Number(h[":status"]);
      // From the send on a ready session: a new session's setup (TCP, TLS with the peer sidecar) is
      // no sign of a slow endpoint (connect failures count on their own).
      const latencyMs = performance.now() - Math.max(started, (session && this.readyAt.get(session)) ?? 0);
      if (stream.closed || stream.headersSent) return void end({ kind: "response", status, latencyMs });
      const response: http2.OutgoingHttpHeaders = { ":status": status };
      for (const [name, value] of pairsOf(h)) addHeader(response, name, value);
      response.via = appendVia(h.via, flow.via);
      const edits = plan.headers?.response;
      if (edits) editHeaders(response, edits);
      // Only a response that will have trailers waits for them; others end with their last DATA.
      const expectTrailers =
        (upFlags & END_STREAM) === 0 && (isGrpc(h["content-type"]) || h.trailer !== undefined);
      // A head node:http2 will not send on (a status outside 200-599, a field it forbids) is the
      // upstream's protocol error, answered 502 as Envoy does, never a throw out of this handler.
      let problem = status >= 200 && status <= 599 ? undefined : `an invalid :status "${h[":status"]}"`;
      if (problem === undefined) {
        try {
          stream.respond(response, {
            endStream: (upFlags & END_STREAM) !== 0,
            waitForTrailers: expectTrailers,
          });
        } catch (err) {
          problem = `a head that cannot be relayed (${(err as Error).message})`;
        }
      }
      if (problem !== undefined) {
        // This attempt's stream is done with: its close (CANCEL) must not reset the client's answer.
        superseded = true;
        up.close(NGHTTP2_CANCEL);
        if (end({ kind: "reset", error: `sent ${problem}` })) return void retry();
        answer(502, `upstream ${ctx.upstream} for ${ctx.service} sent ${problem}\n`);
        return;
      }
      end({ kind: "response", status, latencyMs });
      setStatus(status);
      if (upFlags & END_STREAM) return;
      if (expectTrailers) stream.once("wantTrailers", () => sendTrailers(stream, trailers));
      ctx.bytesSent = 0;
      up.on("data", (chunk: Buffer) => {
        (ctx.bytesSent as number) += chunk.length;
      });
      up.pipe(stream);
    });
    up.on("trailers", (t) => {
      trailers = t;
    });
    up.on("error", (err) => {
      clearTimeout(timer);
      const outcome = failureOutcome(err);
      if (end(outcome)) return void retry();
      answer(...failureAnswer(outcome, ctx), false);
    });
    up.on("close", () => {
      clearTimeout(timer);
      if (superseded) return;
      if (!ended) {
        // Closed before any response without an error event (reset with NO_ERROR or CANCEL): the
        // attempt still ends once, and the client is answered rather than left waiting.
        const why = up.rstCode
          ? `reset the stream (code ${up.rstCode})`
          : "closed the stream without a response";
        if (end({ kind: "reset", error: why })) return void retry();
        if (!stream.closed && !stream.headersSent) answer(502, `upstream ${ctx.upstream} ${why}\n`);
        return;
      }
      // The upstream reset its stream (cancelled, refused): the client's stream is reset the same way.
      if (up.rstCode && up.rstCode !== NGHTTP2_NO_ERROR) end({ kind: "reset", error: `code ${up.rstCode}` });
      if (up.rstCode && up.rstCode !== NGHTTP2_NO_ERROR && !stream.closed) {
        if (!stream.headersSent)
          answer(502, `upstream ${ctx.upstream} reset the stream (code ${up.rstCode})\n`);
        else stream.close(up.rstCode);
      }
    });
    // The client cancelled (RST_STREAM) or went away: cancel upstream too.
    const onClientClose = () => {
      clearTimeout(timer);
      end({ kind: "cancelled" });
      if (!up.closed) up.close(stream.rstCode || NGHTTP2_CANCEL);
    };
    stream.once("close", onClientClose);
    up.once("close", () => stream.off("close", onClientClose));
    // The body is read from the client only once the upstream stream is open: until then a failed
    // connect has taken nothing, and the next attempt gets the whole body.
    if (!(flags & END_STREAM)) {
      const pipeBody = () => {
        replayable = false;
        ctx.bytesReceived = 0;
        stream.on("data", (chunk: Buffer) => {
          (ctx.bytesReceived as number) += chunk.length;
        });
        stream.pipe(up);
      };
      // On a session already connected the stream is open at once ("ready" has been emitted).
      if (up.pending) up.once("ready", pipeBody);
      else pipeBody();
    }
  }

  /** A pooled session to the target, opened on first use and forgotten once it closes or goes away. */
  private session(target: DialTarget): http2.ClientHttp2Session {
    const dial = this.options.dial ?? plainDial;
    const key = dial.keyOf(target);
    const existing = this.pool.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(`http://${target.host}:${target.port}`, {
      settings: { enablePush: false },
      // Plain TCP or mutual TLS to the endpoint's sidecar, Nagle off either way (small frames, a
      // gRPC message, must not wait on delayed ACKs); the session starts once the dial is ready.
      createConnection: () => {
        const dialed = dial(target, false);
        dialed.socket.once(dialed.readyEvent, () => this.readyAt.set(session, performance.now()));
        return dialed.socket;
      },
    });
    const forget = () => {
      if (this.pool.get(key) === session) this.pool.delete(key);
    };
    session.on("error", forget);
    session.on("close", forget);
    session.on("goaway", forget);
    // Idle pooled sessions do not hold the process open, and close after a while.
    session.setTimeout(this.options.idleTimeoutMs ?? 300_000, () => session.close());
    session.unref();
    this.pool.set(key, session);
    return session;
  }
}

function pairsOf(headers: http2.IncomingHttpHeaders): HeaderPairs {
  const out: HeaderPairs = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    if (Array.isArray(value)) {
      for (const v of value) if (!hopByHop(name, v)) out.push([name, v]);
    } else if (!hopByHop(name, String(value))) out.push([name, String(value)]);
  }
  return out;
}

/** The upstream's trailers on the client's stream, empty when it sent none (a response that
 * announced trailers and ended without them still ends: an empty HEADERS frame with END_STREAM,
 * where closing the stream would be a RST_STREAM the next hop reads as cut short); ones node:http2
 * will not send reset it instead (the client learns the response was cut, as when the upstream
 * resets). */
function sendTrailers(
  stream: http2.ServerHttp2Stream,
  trailers: http2.IncomingHttpHeaders | undefined,
): void {
  const t: http2.OutgoingHttpHeaders = {};
  for (const [name, value] of pairsOf(trailers ?? {})) addHeader(t, name, value);
  try {
    stream.sendTrailers(t);
  } catch {
    stream.close(NGHTTP2_INTERNAL_ERROR);
  }
}

/** A route's response edits on an h2 head (names are lower case on both sides). */
function editHeaders(out: http2.OutgoingHttpHeaders, edits: HeaderEdits): void {
  for (const n of edits.remove) delete out[n];
  for (const [n, v] of edits.set) out[n] = v;
  for (const [n, v] of edits.add) {
    const prior = out[n];
    // One value only (node:http2 refuses two): joined, as applyHeaderEdits does.
    if (SINGLE_VALUE_FIELDS.has(n) && prior !== undefined) out[n] = joined(String(prior), v);
    else addHeader(out, n, v);
  }
}

function addHeader(out: http2.OutgoingHttpHeaders, name: string, value: string): void {
  const n = name.toLowerCase();
  if (n.startsWith(":") || hopByHop(n, value) || n === "host") return;
  const prior = out[n];
  if (prior === undefined) out[n] = value;
  else out[n] = Array.isArray(prior) ? [...prior, value] : [String(prior), value];
}

function appendVia(prior: string | string[] | undefined, entry: string): string {
  const p = Array.isArray(prior) ? prior.join(", ") : prior;
  return p ? `${p}, ${entry}` : entry;
}

/** One request from a client stream, as forward() and attempt() run it. */
interface H2Request {
  stream: http2.ServerHttp2Stream;
  flags: number;
  ctx: RequestContext;
  plan: RequestPlan;
  answer: Answer;
  setStatus: (code: number) => void;
  grpcDeadlineMs: number | undefined;
}

/** gRPC's code for a limit reached (a rate limit's 429 would map to UNAVAILABLE, which clients retry). */
const RESOURCE_EXHAUSTED = 8;
/** gRPC's code for a caller the service's AuthorizationPolicy denies. */
const PERMISSION_DENIED = 7;

/** The grpc-status a refusal answers gRPC with, when not the one its HTTP status maps to. */
function refusalGrpcStatus(r: Refusal): number | undefined {
  if (r.denied) return PERMISSION_DENIED;
  return r.rateLimited ? RESOURCE_EXHAUSTED : undefined;
}

/** grpcStatus: for gRPC, instead of the one `status` maps to. */
type Answer = (
  status: number,
  message: string,
  close?: boolean,
  headers?: Record<string, string>,
  grpcStatus?: number,
) => void;
