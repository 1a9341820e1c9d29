// One HTTP/1.1 request through the lean proxy: smuggling checks, the route's RequestPlan run as
// upstream/plan.ts says (fault, attempts, retries, per-try and whole-request timeouts), headers
// rewritten (headers.ts), the body streamed up with a copy kept while it is small enough to replay,
// and the response relayed with its framing (length kept, chunked re-chunked with trailers, no
// body for HEAD/204/304, read-until-close ends the client connection too).

import type { Socket } from "node:net";
import { applyHeaderEdits, applyHeaderEditsFlat } from "../config/header-edits";
import { smugglingProblem } from "../http/guard";
import { forwardRequestHeaders, type HeaderPairs, headerValue, rewriteHost } from "../http/headers";
import { failureAnswer } from "../http/plan-run";
import type { HttpRoute, RequestContext } from "../http/route";
import {
  type AttemptOutcome,
  type AttemptTarget,
  isRefusal,
  type Refusal,
  type RequestPlan,
  refusalHeaders,
} from "../upstream/plan";
import { isChunked, newContext, responseFraming, upstreamHeadText, writeChunk } from "./framing";
import { PARSE_ON, SKIP_BODY, UPGRADE } from "./parser";
import type { FailureKind, ResponseSink, UpstreamConn } from "./pool";
import { RequestBody } from "./request-body";
import { type ClientLink, type RequestHead, record, type Shared } from "./shared";
import { lastChunk, pairs, plainAnswer, responseHead } from "./wire";

export class Exchange implements ResponseSink {
  ctx!: RequestContext;
  started = false;
  private plan: RequestPlan | undefined;
  /** The attempt waiting for its response head (ended() not yet called). */
  private target: AttemptTarget | undefined;
  private conn: UpstreamConn | undefined;
  /** When the current attempt's request head went out on its (connected) upstream connection. */
  private sentAt = 0;
  private perTry: NodeJS.Timeout | undefined;
  private whole: NodeJS.Timeout | undefined;
  private delay: NodeJS.Timeout | undefined;
  private headText = "";
  readonly body: RequestBody;
  private headSent = false;
  private responded = false;
  /** The upstream's response was relayed whole. */
  private responseDone = false;
  private status = 0;
  private chunkedOut = false;
  private closeAfter = false;
  private over = false;
  private sent = 0;
  /** The request is being forwarded (no fault answered it): a mirror copy may go once it is whole. */
  private forwarding = false;
  private mirrored = false;

  constructor(
    private readonly shared: Shared,
    private readonly route: HttpRoute,
    private readonly client: ClientLink,
    readonly head: RequestHead,
  ) {
    this.body = new RequestBody(isChunked(head.headers), (on) => client.holdBody(on));
  }

  /** The request head is in (and whatever body came with it parsed cleanly): go. */
  start(): void {
    this.started = true;
    const { head, shared } = this;
    this.ctx = newContext(shared, this.route, head, this.client.address, this.client.peerIdentity);
    shared.inFlight++;
    const problem = smugglingProblem(this.ctx.request.headers, `1.${head.versionMinor}`);
    if (problem) {
      // After a request we cannot frame, nothing on this connection can be trusted.
      this.ctx.error = problem;
      return void this.answer(400, `bad request: ${problem}\n`, true);
    }
    if (head.method === "CONNECT") {
      // A tunnel request is not something a sidecar forwards (node:http refused it too).
      this.ctx.error = "CONNECT is not supported";
      return void this.answer(
        405,
        "CONNECT is not supported by the sidecar; connect to the destination directly\n",
        true,
      );
    }
    const plan = this.route.plan(this.ctx.request);
    if (isRefusal(plan)) {
      this.ctx.route = plan.route ?? "default";
      // A request the sidecar answers itself (denied, rate limited, redirected) is traced too: the
      // span says why, where a trace would otherwise just stop at the caller.
      this.shared.hooks.onRequest?.(this.ctx);
      return void this.refuse(plan);
    }
    this.plan = plan;
    this.ctx.route = plan.route;
    this.prepareHead();
    if (plan.timeoutMs > 0) this.whole = setTimeout(() => this.onWholeTimeout(), plan.timeoutMs);
    const fault = plan.fault;
    if (fault && fault.delayMs > 0) this.delay = setTimeout(() => this.afterDelay(), fault.delayMs);
    else this.afterDelay();
  }

  get requestDone(): boolean {
    return this.body.done;
  }

  /** The client connection closed or broke. */
  clientGone(): void {
    if (this.over || !this.started) return;
    if (this.target) this.endAttempt({ kind: "cancelled" });
    this.conn?.discard();
    this.conn = undefined;
    this.finish(this.responded ? this.status : 499);
  }

  /** The client's request turned out malformed mid-body. */
  requestBroken(reason: string): void {
    if (this.over) return;
    this.ctx.error = reason;
    if (this.responded) return void this.abort();
    if (this.target) this.endAttempt({ kind: "cancelled" });
    this.conn?.discard();
    this.conn = undefined;
    this.answer(400, `bad request: ${reason}\n`, true);
  }

  get downstream(): Socket {
    return this.client.socket;
  }

  /** Bytes this exchange holds in memory now: queued body, the replay copy, the upstream socket's buffers. */
  buffered(): number {
    const s = this.conn?.socket;
    return this.body.held + (s ? s.writableLength + s.readableLength : 0);
  }

  onClientDrain(): void {
    if (this.conn && !this.over) this.conn.socket.resume();
  }

  // ResponseSink: the current attempt's upstream connection.

  onUpstreamReady(conn: UpstreamConn): void {
    if (conn === this.conn && !this.headSent) this.sendHead(conn);
  }

  onResponseHead(status: number, reason: string, headers: string[], _keepAlive: boolean): number {
    const target = this.target;
    if (!target || this.over) return SKIP_BODY;
    const { head, shared, client } = this;
    if (status < 200 && status !== 101) {
      // 100 Continue, 103 Early Hints: relayed; the final response follows.
      if (head.versionMinor >= 1) client.socket.write(responseHead(status, reason, pairs(headers)), "latin1");
      return SKIP_BODY;
    }
    if (status === 101 && !head.upgrade) {
      // A switch the request never asked for (RFC 9110 §15.2.2): what follows is not HTTP, so it
      // is neither relayed nor pooled, and the attempt failed as a broken answer.
      this.conn?.discard();
      this.conn = undefined;
      const error = "it switched protocols (101) though the request asked for no upgrade";
      const outcome: AttemptOutcome = { kind: "reset", error };
      this.body.restart();
      if (this.endAttempt(outcome)) queueMicrotask(() => this.attempt());
      else {
        this.ctx.error = error;
        this.answer(...failureAnswer(outcome, this.ctx), false);
      }
      return SKIP_BODY;
    }
    clearTimeout(this.perTry);
    // From the request's send on a ready connection: a new connection's setup (TCP, TLS with the
    // peer sidecar) is no sign of a slow endpoint (connect failures count on their own).
    const latencyMs = performance.now() - this.sentAt;
    if (this.endAttempt({ kind: "response", status, latencyMs })) {
      this.conn?.discard();
      this.conn = undefined;
      this.body.restart();
      queueMicrotask(() => this.attempt());
      return SKIP_BODY;
    }
    clearTimeout(this.whole);
    this.responded = true;
    this.status = status;
    const edits = this.plan?.headers?.response;
    const framing = responseFraming(
      head,
      status,
      reason,
      edits ? applyHeaderEditsFlat(headers, edits) : headers,
      shared,
    );
    this.chunkedOut = framing.chunked;
    this.closeAfter = framing.close;
    client.socket.write(framing.text, "latin1");
    if (head.upgrade && status === 101) return UPGRADE;
    return framing.bodyless ? SKIP_BODY : PARSE_ON;
  }

  onResponseBody(chunk: Buffer): void {
    if (!this.responded || this.over) return;
    this.sent += chunk.length;
    if (!writeChunk(this.client.socket, chunk, this.chunkedOut)) this.conn?.socket.pause();
  }

  onResponseEnd(trailers: string[] | undefined): void {
    if (!this.responded || this.over) return;
    if (this.chunkedOut) this.client.socket.write(lastChunk(trailers), "latin1");
    this.responseDone = true;
    // An upstream may answer before it has read the whole body (as node:http apps do): the rest
    // still goes to it, so both connections stay usable, and the exchange ends with the body.
    if (this.body.done) this.complete();
  }

  /** The client's request ended (body and trailers parsed). */
  onRequestEnd(trailers: string[] | undefined): void {
    this.body.end(trailers);
    if (this.forwarding) this.mirror();
    if (this.responseDone && !this.over) this.complete();
  }

  /** A copy for the rule's mirror, once: when the request is forwarded and whole. */
  private mirror(): void {
    const target = this.plan?.mirror;
    const mirrors = this.shared.mirrors;
    if (!target || !mirrors || this.mirrored || !this.body.done || this.head.upgrade) return;
    this.mirrored = true;
    const { ctx } = this;
    const body = this.body.whole();
    // A body past the replay limit was streamed, not kept: nothing whole to copy.
    if (body === undefined && this.body.received > 0) return void mirrors.skipped(ctx.service, target);
    const rewrite = this.plan?.rewrite;
    mirrors.send({
      service: ctx.service,
      target,
      method: this.head.method,
      path: rewrite?.target ?? this.head.path,
      authority: rewrite?.authority ?? ctx.request.authority,
      headers: ctx.request.headers,
      ...(body && body.length > 0 ? { body } : {}),
    });
  }

  /** Response relayed and request sent whole: the upstream connection goes back to the pool. */
  private complete(): void {
    const conn = this.conn;
    this.conn = undefined;
    if (conn) {
      if (this.body.sent) conn.release();
      else conn.discard();
    }
    this.body.stop();
    this.responseFinished();
  }

  onUpgraded(socket: Socket, rest: Buffer): void {
    this.conn = undefined;
    this.finish(101);
    this.client.upgraded(socket, rest);
  }

  onUpstreamFailure(kind: FailureKind, error: string): void {
    if (this.over) return;
    this.conn = undefined;
    if (this.target) {
      clearTimeout(this.perTry);
      const outcome: AttemptOutcome = { kind, error };
      const [status, message] = failureAnswer(outcome, this.ctx);
      return void this.failed(outcome, status, message, error);
    }
    this.ctx.error = error;
    // The whole response is out; only the rest of the body had nowhere to go: close after it.
    if (this.responseDone) {
      this.body.stop();
      return void this.responseFinished();
    }
    // The response had started: the client cannot be told, only cut off.
    this.abort();
  }

  onUpstreamDrain(): void {
    this.client.holdBody(false);
  }

  private afterDelay(): void {
    this.delay = undefined;
    if (this.over) return;
    const abort = this.plan?.fault?.abortStatus ?? 0;
    if (abort > 0) {
      this.ctx.error = "fault injected by the route";
      return void this.answer(abort, "fault injected by the route\n", false, [["x-weft-fault", "abort"]]);
    }
    this.forwarding = true;
    this.mirror();
    this.attempt();
  }

  private attempt(): void {
    const plan = this.plan;
    if (!plan || this.over) return;
    const next = plan.next();
    if (isRefusal(next)) return void this.refuse(next);
    this.target = next;
    this.ctx.upstream = `${next.host}:${next.port}`;
    this.headSent = false;
    if (plan.perTryTimeoutMs > 0)
      this.perTry = setTimeout(() => this.onPerTryTimeout(), plan.perTryTimeoutMs);
    const conn = this.shared.pool.acquire(next, this);
    this.conn = conn;
    if (conn.connected) this.sendHead(conn);
  }

  /** Headers for upstream, once: rewritten, the hook's additions, then the framing. */
  private prepareHead(): void {
    const { ctx, head, shared } = this;
    const { headers, requestId } = forwardRequestHeaders(
      ctx.request.headers,
      {
        via: shared.via,
        // Outbound, the client is our own app: only the inbound side records who called.
        clientAddress: shared.direction === "inbound" ? this.client.address : undefined,
        proto: "http",
        peerIdentity: shared.direction === "inbound" ? (this.client.peerIdentity ?? "") : undefined,
      },
      head.upgrade ? ["upgrade"] : [],
    );
    ctx.requestId = requestId;
    // HTTP/1.0 has no Host to require (guard.ts refuses an HTTP/1.1 request without one), but the
    // next hop gets HTTP/1.1, and Node apps and the peer sidecar answer that without a Host with 400.
    const authority = this.route.authority;
    if (head.versionMinor === 0 && authority !== undefined && headerValue(headers, "host") === undefined) {
      headers.push(["host", authority]);
      if (ctx.request.authority === "") ctx.request.authority = authority;
    }
    const edits = this.plan?.headers?.request;
    ctx.request.headers = edits ? applyHeaderEdits(headers, edits) : headers;
    const rewrite = this.plan?.rewrite;
    if (rewrite?.authority !== undefined) rewriteHost(ctx.request.headers, rewrite.authority, true);
    shared.hooks.onRequest?.(ctx);
    // The span and the access log keep the target the client sent; upstream gets the rewritten one.
    const target = rewrite?.target;
    this.headText = upstreamHeadText(
      target === undefined ? head : { ...head, path: target },
      ctx.request.headers,
      this.body.chunked,
    );
  }

  private sendHead(conn: UpstreamConn): void {
    this.headSent = true;
    this.sentAt = performance.now();
    const s = conn.socket;
    const text =
      conn.lastRequest && !this.head.upgrade
        ? `${this.headText}connection: close\r\n\r\n`
        : `${this.headText}\r\n`;
    s.cork();
    s.write(text, "latin1");
    this.body.attach(s);
    s.uncork();
  }

  private onPerTryTimeout(): void {
    if (!this.target || this.over) return;
    this.conn?.discard();
    this.conn = undefined;
    const plan = this.plan as RequestPlan;
    const why = `${this.ctx.upstream} did not answer within ${plan.perTryTimeoutMs} ms`;
    this.failed({ kind: "timeout" }, 504, "upstream request timeout\n", why);
  }

  private onWholeTimeout(): void {
    if (this.over) return;
    if (this.responded) return void this.abort();
    clearTimeout(this.delay);
    if (this.target) this.endAttempt({ kind: "cancelled" });
    this.conn?.discard();
    this.conn = undefined;
    this.ctx.error = `no response within the route's timeout of ${this.plan?.timeoutMs} ms`;
    this.answer(504, "upstream request timeout\n", false);
  }

  /** An attempt failed before a response head: try again when the plan says so, else answer. */
  private failed(outcome: AttemptOutcome, status: number, message: string, why: string): void {
    this.body.restart();
    if (this.endAttempt(outcome)) return void this.attempt();
    this.ctx.error = why;
    this.answer(status, message, false);
  }

  /** Reports the current attempt's end to the plan (exactly once); true: try again. */
  private endAttempt(outcome: AttemptOutcome): boolean {
    const target = this.target as AttemptTarget;
    this.target = undefined;
    clearTimeout(this.perTry);
    const replayable = !this.responded && this.body.replayable && outcome.kind !== "cancelled";
    const again = (this.plan as RequestPlan).ended(target, outcome, replayable) && replayable;
    if (again) this.ctx.retries++;
    return again;
  }

  private refuse(r: Refusal): void {
    if (r.location !== undefined)
      return void this.answer(r.status, r.message, false, [["location", r.location]]);
    this.ctx.error = r.message.trim();
    this.answer(r.status, r.message, false, Object.entries(refusalHeaders(r) ?? {}));
  }

  /** The proxy answers itself. */
  private answer(status: number, message: string, close: boolean, extra: HeaderPairs = []): void {
    if (this.responded) return void this.abort();
    clearTimeout(this.whole);
    this.responded = true;
    this.status = status;
    // A body not read to its end leaves nothing to find the next request by.
    if (close || !this.requestDone || this.shared.draining || !this.head.keepAlive) this.closeAfter = true;
    this.client.socket.write(plainAnswer(status, message, this.shared.via, this.closeAfter, extra));
    this.body.stop();
    this.responseFinished();
  }

  private responseFinished(): void {
    if (!this.requestDone) this.closeAfter = true;
    this.finish(this.status);
    this.client.exchangeEnded(this.closeAfter);
  }

  /** Cuts the client off mid-response. */
  private abort(): void {
    this.conn?.discard();
    this.conn = undefined;
    this.finish(this.status);
    this.client.socket.destroy();
  }

  private finish(status: number): void {
    if (this.over) return;
    this.over = true;
    this.body.stop();
    clearTimeout(this.perTry);
    clearTimeout(this.whole);
    clearTimeout(this.delay);
    this.ctx.bytesSent = this.sent;
    record(this.shared, this.ctx, status, this.body.received);
  }
}
