// Test helpers for the lean HTTP/1.1 proxy: a fake HttpRoute whose plan walks a fixed list of
// targets (and records what the proxy told it), a proxy fed by a plain net.Server, raw clients.
import { createHash } from "node:crypto";
import http from "node:http";
import { type AddressInfo, connect, createServer, type Server, Socket } from "node:net";
import type { ExecutionContext } from "ava";
import type { HttpRoute, RequestContext, RequestInfo } from "../http/route";
import { type Dial, type DialTarget, plainDial } from "../tcp/dial";
import { Metrics } from "../telemetry/metrics";
import type { AttemptOutcome, AttemptTarget, InjectedFault, Refusal, RequestPlan } from "../upstream/plan";
import { Http1Proxy, type Http1ProxyOptions } from "./proxy";

export interface PlanOptions {
  timeoutMs?: number;
  perTryTimeoutMs?: number;
  fault?: InjectedFault;
  /** Attempts in all (1: no retries). Retried: failures, timeouts and 503s, when replayable. */
  attempts?: number;
  refusal?: Refusal;
  maxRequestsPerConnection?: number;
}

export interface FakeRoute extends HttpRoute {
  /** Every ended() call, in order. */
  ended: Array<{ endpoint: string; outcome: AttemptOutcome; replayable: boolean }>;
  nexts: number;
  requests: RequestInfo[];
}

export function fakeRoute(ports: number[], o: PlanOptions = {}): FakeRoute {
  const route: FakeRoute = {
    service: "web",
    authority: "web:80",
    ended: [],
    nexts: 0,
    requests: [],
    plan(request?: RequestInfo) {
      if (request) route.requests.push(request);
      if (o.refusal && o.refusal.overflow === undefined && ports.length === 0)
        return { ...o.refusal, route: "r1" };
      let tries = 0;
      const plan: RequestPlan = {
        route: "r1",
        fault: o.fault,
        timeoutMs: o.timeoutMs ?? 0,
        perTryTimeoutMs: o.perTryTimeoutMs ?? 0,
        next(): AttemptTarget | Refusal {
          route.nexts++;
          if (o.refusal) return o.refusal;
          const port = ports[tries % ports.length] as number;
          tries++;
          return {
            host: "127.0.0.1",
            port,
            endpoint: `127.0.0.1:${port}`,
            maxRequestsPerConnection: o.maxRequestsPerConnection ?? 0,
            meshTlsService: "",
          };
        },
        ended(target: AttemptTarget, outcome: AttemptOutcome, replayable: boolean): boolean {
          route.ended.push({ endpoint: target.endpoint, outcome, replayable });
          const failed =
            outcome.kind === "connect-failure" ||
            outcome.kind === "reset" ||
            outcome.kind === "timeout" ||
            (outcome.kind === "response" && outcome.status === 503);
          return failed && replayable && tries < (o.attempts ?? 1);
        },
      };
      return plan;
    },
  };
  return route;
}

export interface Harness {
  proxy: Http1Proxy;
  port: number;
  metrics: Metrics;
  /** What the default hooks saw: requests as they were about to go (or be answered), and ended. */
  started: RequestContext[];
  completed: RequestContext[];
}

/** An Http1Proxy behind a plain listener that hands it every socket with `route`. */
export async function startProxy(
  t: ExecutionContext,
  route: HttpRoute,
  options: Partial<Http1ProxyOptions> = {},
): Promise<Harness> {
  const metrics = new Metrics();
  const started: RequestContext[] = [];
  const completed: RequestContext[] = [];
  const proxy = new Http1Proxy({
    direction: "inbound",
    workload: "shop",
    metrics,
    hooks: { onRequest: (ctx) => started.push(ctx), onComplete: (ctx) => completed.push(ctx) },
    ...options,
  });
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (s) => proxy.handle(s, route));
  await listen(server);
  t.teardown(() => {
    proxy.close();
    server.close();
  });
  return { proxy, port: (server.address() as AddressInfo).port, metrics, started, completed };
}

export function listen(server: Server | http.Server): Promise<number> {
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r((server.address() as AddressInfo).port)));
}

/** An http.Server on 127.0.0.1 closed at teardown; counts its connections. */
export async function app(
  t: ExecutionContext,
  handler: http.RequestListener,
): Promise<{ port: number; server: http.Server; connections: () => number }> {
  const server = http.createServer(handler);
  let connections = 0;
  server.on("connection", () => connections++);
  const port = await listen(server);
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port, server, connections: () => connections };
}

/** Writes raw bytes and reads until the proxy closes (or `until` matches). */
export function raw(port: number, data: string | Buffer, until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const c = connect(port, "127.0.0.1", () => c.write(data));
    c.setTimeout(10_000, () => c.destroy(new Error(`no answer; got ${JSON.stringify(out)}`)));
    c.on("data", (d) => {
      out += d.toString("latin1");
      if (until?.test(out)) c.destroy();
    });
    c.on("close", () => resolve(out));
    c.on("error", reject);
  });
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request with node:http as the client. */
export function request(
  port: number,
  o: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    agent?: http.Agent;
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: o.method ?? "GET",
        path: o.path ?? "/",
        headers: { host: "web", ...o.headers },
        agent: o.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Requests every HTTP/1.1 proxy of ours must refuse with 400 (name, raw bytes). */
export const SMUGGLING: Array<[string, string]> = [
  [
    "CL and TE together",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  ],
  [
    "duplicate Content-Length",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
  ],
  [
    "differing Content-Length",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
  ],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n"],
  [
    "bad chunk size",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
  ],
  ["TE not chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc"],
  ["TE chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"],
  ["space before colon", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc"],
  ["negative Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"],
  ["no Host", "GET / HTTP/1.1\r\n\r\n"],
  ["two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"],
  ["two Hosts in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"],
  ["bare LF", "GET / HTTP/1.1\nHost: a\n\n"],
  ["TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
  ["garbage request line", "GET\x01 / HTTP/1.1\r\nHost: a\r\n\r\n"],
];

/** Writes `chunk` `count` times, waiting for 'drain' whenever the stream asks to, then ends it. */
export function writeChunks(out: NodeJS.WritableStream, chunk: Buffer, count: number): void {
  let i = 0;
  const write = () => {
    while (i < count) {
      i++;
      if (!out.write(chunk)) return void out.once("drain", write);
    }
    out.end();
  };
  write();
}

/** Reads a stream to its end, hashing it; `slow`: pauses 5 ms after every 256 KB (a slow reader). */
export function hashStream(
  input: NodeJS.ReadableStream,
  slow = false,
): Promise<{ size: number; sha: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    let size = 0;
    input.on("data", (d: Buffer) => {
      hash.update(d);
      size += d.length;
      if (slow && size % (256 * 1024) < d.length) {
        input.pause();
        setTimeout(() => input.resume(), 5);
      }
    });
    input.on("end", () => resolve({ size, sha: hash.digest("hex") }));
    input.on("error", reject);
  });
}

/** A plain TCP dial whose connections start connecting only `setupMs` after the dial, as one slow
 * to become ready does (a mutual TLS handshake, a lost SYN); meanwhile they say they are connecting,
 * which is what the HTTP/1.1 pool and node:http2 wait on. */
export function slowToReadyDial(setupMs: number): Dial {
  return Object.assign(
    (target: DialTarget, allowHalfOpen: boolean) => {
      const socket = new Socket({ allowHalfOpen });
      (socket as { connecting: boolean }).connecting = true;
      const timer = setTimeout(() => socket.connect({ host: target.host, port: target.port }), setupMs);
      socket.once("close", () => clearTimeout(timer));
      return { socket, readyEvent: "connect" as const };
    },
    { keyOf: plainDial.keyOf },
  );
}
