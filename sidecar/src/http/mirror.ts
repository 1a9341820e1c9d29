// Copies of requests for a route's mirror (Istio's traffic shadowing): a new version of a service
// sees live requests while the one the split chose answers them. A copy goes out once its request
// is whole, in the request's own protocol (HTTP/1.1 here, on keep-alive connections of its own;
// HTTP/2 on the h2 proxy's sessions, accounted here through begin()), with "-shadow" added to its
// host as Envoy does (so the copy's own sidecar, logs and app can tell it apart); its answer is
// read and dropped. The client's request never waits for it, and a copy never retries. Copies in
// flight are bounded: past the bound a copy is dropped and counted, so a slow mirror target costs
// memory and sockets only up to a point.
import http from "node:http";
import { type Dial, type DialTarget, plainDial } from "../tcp/dial";
import type { Metrics } from "../telemetry/metrics";
import type { MirrorTarget } from "../upstream/plan";
import { endToEnd, type HeaderPairs } from "./headers";

/** Copies in flight, over all targets, before more are dropped. */
export const MAX_MIRRORS_IN_FLIGHT = 256;
/** A copy that has no full answer by then is given up (counted as an error). */
export const MIRROR_TIMEOUT_MS = 10_000;

export interface MirrorCopy {
  service: string;
  target: MirrorTarget;
  method: string;
  /** The request target (path and query) as it went upstream. */
  path: string;
  /** The authority it went upstream with: the copy's Host is this with "-shadow" after the host. */
  authority: string;
  /** The headers as they went upstream; Host, framing and hop-by-hop ones are set here. */
  headers: HeaderPairs;
  /** The whole body; absent: none. */
  body?: Buffer;
}

/** Framing is the copy's own: its body is whole, so it goes with a Content-Length. */
const FRAMING = new Set(["host", "content-length", "transfer-encoding", "expect"]);

/** "reviews:8080" is "reviews-shadow:8080", "[::1]:80" is "[::1]-shadow:80" (Envoy's rule). */
export function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(":");
  const bracket = authority.lastIndexOf("]");
  const hasPort = colon > bracket && (bracket >= 0 || authority.indexOf(":") === colon);
  return hasPort ? `${authority.slice(0, colon)}-shadow${authority.slice(colon)}` : `${authority}-shadow`;
}

/**
 * Keep-alive connections opened by the sidecar's dial: a copy goes in mutual TLS where the request
 * would (an endpoint whose sidecar is STRICT refuses anything else), and the pools of plain and
 * mutual TLS connections are the dial's keys, never mixed.
 */
class DialAgent extends http.Agent {
  constructor(private readonly dial: Dial) {
    super({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16 });
  }

  override getName(options?: http.ClientRequestArgs): string {
    return this.dial.keyOf(dialTarget(options));
  }

  override createConnection(options: http.ClientRequestArgs): ReturnType<http.Agent["createConnection"]> {
    return this.dial(dialTarget(options), false).socket;
  }
}

/** The request options the agent hands back, with the copy's target in them (send() puts it). */
function dialTarget(options: (http.ClientRequestArgs & { meshTlsService?: string }) | undefined): DialTarget {
  return {
    host: options?.host ?? "",
    port: Number(options?.port),
    meshTlsService: options?.meshTlsService ?? "",
  };
}

export class Mirrors {
  private inFlight = 0;
  private readonly agent: DialAgent;

  constructor(
    private readonly metrics?: Metrics,
    private readonly maxInFlight = MAX_MIRRORS_IN_FLIGHT,
    private readonly timeoutMs = MIRROR_TIMEOUT_MS,
    dial: Dial = plainDial,
  ) {
    this.agent = new DialAgent(dial);
  }

  /**
   * One copy's accounting: a function to call with how it ended (later calls change nothing), or
   * undefined when too many copies are out, and this one is dropped (and counted).
   */
  begin(service: string, target: MirrorTarget): ((outcome: string) => void) | undefined {
    if (this.inFlight >= this.maxInFlight) {
      this.metrics?.mirrorRequest(service, target.endpoint, "dropped");
      return undefined;
    }
    this.inFlight++;
    let done = false;
    return (outcome) => {
      if (done) return;
      done = true;
      this.inFlight--;
      this.metrics?.mirrorRequest(service, target.endpoint, outcome);
    };
  }

  /** A request whose body is not whole (streamed past the replay limit) is not copied: counted. */
  skipped(service: string, target: MirrorTarget): void {
    this.metrics?.mirrorRequest(service, target.endpoint, "skipped");
  }

  /** Sends one copy over HTTP/1.1. */
  send(copy: MirrorCopy): void {
    const { target } = copy;
    const end = this.begin(copy.service, target);
    if (!end) return;
    const raw: string[] = ["host", shadowAuthority(copy.authority)];
    for (const [name, value] of endToEnd(copy.headers)) {
      if (!FRAMING.has(name.toLowerCase())) raw.push(name, value);
    }
    if (copy.body) raw.push("content-length", String(copy.body.length));
    const req = http.request({
      host: target.host,
      port: target.port,
      // Not an option of node:http's: the agent reads it back to dial (DialAgent).
      ...{ meshTlsService: target.meshTlsService },
      method: copy.method,
      path: copy.path,
      headers: raw,
      setHost: false,
      agent: this.agent,
    });
    req.setTimeout(this.timeoutMs, () => req.destroy(new Error("timed out")));
    req.on("response", (res) => {
      const outcome = statusClass(res.statusCode ?? 0);
      res.on("error", () => end("error"));
      res.on("end", () => end(outcome));
      res.resume();
    });
    req.on("error", () => end("error"));
    req.on("close", () => end("error")); // closed before its answer ended (no error event)
    req.end(copy.body);
  }

  /** Closes the kept-alive connections (the sidecar is stopping). */
  close(): void {
    this.agent.destroy();
  }
}

/** A copy's outcome by its answer's status: "2xx", "5xx". */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}
