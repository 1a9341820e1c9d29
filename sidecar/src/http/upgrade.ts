// HTTP/1.1 Upgrade (WebSocket): the request goes upstream on a connection of its own with Upgrade
// and Connection kept; after the upstream's 101 both sockets are piped both ways, untouched. An
// upstream that declines answers with a normal response, which is passed back and the connection
// closed.
import http from "node:http";
import type { Socket } from "node:net";
import { type AttemptOutcome, isRefusal } from "../upstream/plan";
import { begin, finish, type RequestFlow } from "./flow";
import { forwardRequestHeaders, forwardResponseHeaders, type HeaderPairs, pairsOf } from "./headers";
import { failureOutcome } from "./plan-run";
import type { HttpRoute } from "./route";

export function upgrade(
  flow: RequestFlow,
  route: HttpRoute,
  req: http.IncomingMessage,
  socket: Socket,
  head: Buffer,
): void {
  let answered = 0;
  const reply = (status: number, message: string) => {
    answered = status;
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(message)}\r\nvia: ${flow.via}\r\n\r\n${message}`,
    );
  };
  const { ctx, plan } = begin(flow, route, req, reply);
  if (!plan) {
    finish(flow, ctx, answered);
    return;
  }
  // One attempt: an upgrade is not replayed (its bytes after the 101 belong to the application).
  const target = plan.next();
  if (isRefusal(target)) {
    ctx.error = target.message.trim();
    reply(target.status, target.message);
    finish(flow, ctx, target.status);
    return;
  }
  const started = performance.now();
  let ended = false;
  const end = (outcome: AttemptOutcome) => {
    if (!ended) plan.ended(target, outcome, false);
    ended = true;
  };
  socket.once("close", () => end({ kind: "cancelled" }));
  socket.on("error", () => {});
  const { headers, requestId } = forwardRequestHeaders(
    ctx.request.headers,
    {
      via: flow.via,
      clientAddress: flow.direction === "inbound" ? (req.socket.remoteAddress ?? undefined) : undefined,
      proto: "http",
    },
    ["upgrade"],
  );
  headers.push(["connection", "upgrade"]);
  ctx.requestId = requestId;
  ctx.request.headers = headers;
  ctx.upstream = `${target.host}:${target.port}`;
  flow.hooks.onRequest?.(ctx);
  // An upgraded connection is never returned to a pool: agent false gives it its own.
  const upstream = http.request({
    host: target.host,
    port: target.port,
    method: ctx.request.method,
    path: ctx.request.path,
    headers: headers.flat(),
    setHost: false,
    agent: false,
  });
  upstream.on("upgrade", (res, upSocket: Socket, upHead: Buffer) => {
    end({ kind: "response", status: res.statusCode ?? 101, latencyMs: performance.now() - started });
    const out = forwardResponseHeaders(pairsOf(res.rawHeaders), flow.via, ["upgrade"]);
    out.push(["connection", "upgrade"]);
    socket.write(statusBlock(res.statusCode ?? 101, res.statusMessage ?? "Switching Protocols", out));
    finish(flow, ctx, res.statusCode ?? 101);
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upSocket.write(head);
    // From here on the bytes are the application's: no HTTP idle timeout, errors tear down both.
    socket.setTimeout(0);
    const teardown = () => {
      socket.destroy();
      upSocket.destroy();
    };
    socket.on("close", teardown);
    upSocket.on("close", teardown);
    upSocket.on("error", teardown);
    socket.pipe(upSocket);
    upSocket.pipe(socket);
  });
  upstream.on("response", (res) => {
    end({ kind: "response", status: res.statusCode ?? 502, latencyMs: performance.now() - started });
    // Declined: pass the answer back and close (the client's connection expected to switch).
    const out = forwardResponseHeaders(pairsOf(res.rawHeaders), flow.via);
    out.push(["connection", "close"]);
    const chunked = res.headers["content-length"] === undefined;
    if (chunked) out.push(["transfer-encoding", "chunked"]);
    socket.write(statusBlock(res.statusCode ?? 502, res.statusMessage ?? "", out));
    finish(flow, ctx, res.statusCode ?? 502);
    res.on("data", (d: Buffer) =>
      socket.write(chunked ? Buffer.concat([Buffer.from(`${d.length.toString(16)}\r\n`), d, CRLF]) : d),
    );
    res.on("end", () => (chunked ? socket.end("0\r\n\r\n") : socket.end()));
  });
  upstream.on("error", (err) => {
    end(failureOutcome(err));
    finish(flow, ctx, 502);
    reply(502, `upstream ${ctx.upstream} for ${ctx.service} failed: ${err.message}\n`);
  });
  upstream.end();
}

const CRLF = Buffer.from("\r\n");

function statusBlock(status: number, message: string, headers: HeaderPairs): string {
  const lines = [`HTTP/1.1 ${status} ${message}`, ...headers.map(([n, v]) => `${n}: ${v}`)];
  return `${lines.join("\r\n")}\r\n\r\n`;
}
