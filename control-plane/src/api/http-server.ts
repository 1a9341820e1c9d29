// The control plane's HTTP API: routing, query parsing and blocking, for Weft's REST view
// (/api/v1) and the Consul-compatible catalog and health endpoints (/v1). Never lets bad input
// crash the process: every failure becomes a JSON error with a reason.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ProxyStatus } from "../discovery/proxy-status";
import { ControlPlaneError } from "../errors";
import { isServiceName } from "../registration/validate";
import type { ServiceRegistry } from "../registry/types";
import { DEFAULT_WAIT_MS, parseIndex, parseWait, waitForIndex } from "./blocking";
import { catalogService, catalogServices, DATACENTER, healthService } from "./consul";
import { HttpError, sendError, sendJson } from "./respond";
import { getServiceSummary, listServiceEndpoints, listServiceSummaries } from "./rest";

export interface ApiServerOptions {
  registry: ServiceRegistry;
  /** The connected sidecars and their ACK/NACK state, for GET /api/v1/proxies. */
  proxies: () => ProxyStatus[];
  log?: (message: string) => void;
}

export interface ApiServer {
  server: Server;
  /** Releases held blocking queries; the caller closes the listening server. */
  abortWaits(): void;
}

interface Route {
  pattern: string[];
  consul: boolean;
  answer: (params: string[], query: URLSearchParams) => unknown;
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const { registry } = options;
  const log = options.log ?? ((m) => console.error(m));
  const closing = new AbortController();
  const routes: Route[] = [
    { pattern: ["api", "v1", "services"], consul: false, answer: () => listServiceSummaries(registry) },
    {
      pattern: ["api", "v1", "services", ":name"],
      consul: false,
      answer: ([name]) => getServiceSummary(registry, name!),
    },
    {
      pattern: ["api", "v1", "services", ":name", "endpoints"],
      consul: false,
      answer: ([name]) => listServiceEndpoints(registry, name!),
    },
    { pattern: ["api", "v1", "proxies"], consul: false, answer: () => options.proxies() },
    { pattern: ["v1", "catalog", "services"], consul: true, answer: () => catalogServices(registry) },
    {
      pattern: ["v1", "catalog", "service", ":name"],
      consul: true,
      answer: ([name], q) => catalogService(registry, name!, q.get("tag") ?? undefined),
    },
    {
      pattern: ["v1", "health", "service", ":name"],
      consul: true,
      answer: ([name], q) => healthService(registry, name!, isPassing(q), q.get("tag") ?? undefined),
    },
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://control-plane");
    } catch {
      throw new HttpError(400, `the request target "${req.url}" is not a valid path`);
    }
    const segments = url.pathname.split("/").filter((s) => s !== "");
    const match = matchRoute(routes, segments);
    if (!match) {
      throw new HttpError(
        404,
        `no route for ${req.method} ${url.pathname}; see /api/v1/services or the Consul /v1/catalog/services`,
      );
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      throw new HttpError(
        405,
        `${req.method} is not supported on ${url.pathname}; the API is read-only, use GET`,
      );
    }
    for (const name of match.params) {
      if (!isServiceName(name)) {
        throw new HttpError(
          400,
          `"${name}" is not a valid service name (letters, digits, '-', '_', '.'; at most 63)`,
        );
      }
    }
    const dc = url.searchParams.get("dc");
    if (match.route.consul && dc !== null && dc !== "" && dc !== DATACENTER) {
      throw new HttpError(
        500,
        `No path to datacenter "${dc}"; this control plane serves only "${DATACENTER}"`,
      );
    }
    const index = url.searchParams.get("index");
    if (index !== null) {
      const wait = url.searchParams.get("wait");
      const waitMs = wait === null ? DEFAULT_WAIT_MS : parseWait(wait);
      const gone = new AbortController();
      res.on("close", () => gone.abort());
      await waitForIndex(registry, parseIndex(index), waitMs, AbortSignal.any([gone.signal, closing.signal]));
      if (res.destroyed) return;
    }
    const body = match.route.answer(match.params, url.searchParams);
    const headers: Record<string, string> = match.route.consul
      ? {
          "X-Consul-Index": String(registry.index()),
          "X-Consul-KnownLeader": "true",
          "X-Consul-LastContact": "0",
          "X-Consul-Effective-Consistency": "leader",
        }
      : {};
    sendJson(res, 200, body, headers);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return sendError(res, err.status, err.message);
      if (err instanceof ControlPlaneError) {
        const status = err.code === "SERVICE_NOT_FOUND" ? 404 : err.code === "INVALID_ARGUMENT" ? 400 : 500;
        return sendError(res, status, err.message);
      }
      if (err instanceof URIError)
        return sendError(res, 400, `the path is not valid percent-encoding: ${err.message}`);
      log(`HTTP ${req.method} ${req.url} failed: ${(err as Error).stack}`);
      sendError(res, 500, `internal error: ${(err as Error).message}`);
    });
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });
  return { server, abortWaits: () => closing.abort() };
}

/** Consul treats a bare `?passing` (or any value but false/0) as true. */
function isPassing(query: URLSearchParams): boolean {
  const v = query.get("passing");
  return v !== null && v !== "false" && v !== "0";
}

function matchRoute(routes: Route[], segments: string[]): { route: Route; params: string[] } | undefined {
  for (const route of routes) {
    if (route.pattern.length !== segments.length) continue;
    const params: string[] = [];
    const ok = route.pattern.every((p, i) => {
      if (p.startsWith(":")) {
        params.push(decodeURIComponent(segments[i]!));
        return true;
      }
      return p === segments[i];
    });
    if (ok) return { route, params };
  }
  return undefined;
}
