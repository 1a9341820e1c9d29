// The control plane's HTTP API: routing, query parsing and blocking, for Weft's REST view
// (/api/v1) and the Consul-compatible catalog and health endpoints (/v1). Never lets bad input
// crash the process: every failure becomes a JSON error with a reason.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { SqliteConfigStore } from "../config/index";
import type { ProxyStatus } from "../discovery/proxy-status";
import { ControlPlaneError } from "../errors";
import type { SqliteKv } from "../kv/kv-store";
import { isServiceName } from "../registration/validate";
import type { ServiceRegistry } from "../registry/types";
import { isMutation, requireToken } from "./auth";
import { DEFAULT_WAIT_MS, parseIndex, parseWait, waitForIndex } from "./blocking";
import { handleConfigRequest } from "./config-routes";
import {
  type ConsulExtras,
  catalogService,
  catalogServices,
  checkState,
  consulFlag,
  consulHeaders,
  DATACENTER,
  healthChecks,
  healthNode,
  healthService,
  healthState,
  nodeMetaQuery,
  nodeParam,
} from "./consul";
import { compileFilter, FilterError } from "./consul-filter";
import { CATALOG_SERVICE, type FilterSchema, HEALTH_CHECK, HEALTH_SERVICE } from "./consul-filter-schema";
import { handleKv } from "./consul-kv";
import { EMPTY_BODY, type RequestBody, readBody } from "./request-body";
import { HttpError, sendError, sendJson } from "./respond";
import { getServiceSummary, listServiceEndpoints, listServiceSummaries } from "./rest";
import { RateLimiter, type RateLimitOptions } from "./throttle";

export interface ApiServerOptions {
  registry: ServiceRegistry;
  /** The connected sidecars and their ACK/NACK state, for GET /api/v1/proxies. */
  proxies: () => ProxyStatus[];
  log?: (message: string) => void;
  /** When set, every non-GET request needs it (Authorization: Bearer or X-Consul-Token). Default: none. */
  token?: string;
  /** Token bucket for mutating requests per client address. Default: burst 200, 100/s. */
  mutationLimit?: RateLimitOptions;
  /** Tags and checks of services registered through the Consul agent API. */
  consul?: ConsulExtras;
  /** Mesh config objects, served under /api/v1/config (api/config-routes.ts). Default: none. */
  config?: SqliteConfigStore;
  /** Consul's KV store, served under /v1/kv (api/consul-kv.ts). Default: none. */
  kv?: SqliteKv;
  /** More routes (Consul agent, Prometheus SD, ...), matched after the built-in ones. */
  extraRoutes?: Route[];
  /** Serves the dashboard's own paths (/, /ui/...); returns false for any other. Default: none. */
  dashboard?: (method: string | undefined, pathname: string, res: ServerResponse) => boolean;
  /** Streaming answers (log following) tried before the route table; resolves true when handled. */
  streams?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
}

/** A compiled `?filter=`: whether it selects one item. */
export type ItemFilter = (item: unknown) => boolean;

export interface ApiServer {
  server: Server;
  /** Releases held blocking queries; the caller closes the listening server. */
  abortWaits(): void;
}

export interface Route {
  pattern: string[];
  consul: boolean;
  /** "GET" (default; HEAD is answered too), "PUT", "POST" or "DELETE". */
  method?: string;
  /** Checks one :param; returns the problem, or undefined when fine. Default: a valid service name. */
  checkParam?: (value: string) => string | undefined;
  /** Answers with a credential: needs the token when one is set, even to read (Consul's ACL on leaf). */
  secret?: boolean;
  /** A map answer whose values `?filter=` selects (agent services and checks); lists always are. */
  filterValues?: boolean;
  /** The fields of the items `?filter=` selects: a selector naming another is a 400, as Consul's.
   * Without one, any selector is taken (and one that names nothing matches nothing). */
  filterSchema?: FilterSchema;
  /** The answer applies `?filter=` itself (given as its fourth argument), for answers whose items are
   * not what Consul filters: /v1/catalog/services filters instances before grouping them by name. */
  filterInAnswer?: boolean;
  /** The status to answer with the body (default 200): Consul's agent health answers 429 or 503. */
  statusOf?: (body: unknown) => number;
  /** The answer as plain text for `?format=text` (Consul's agent health: the bare status word). */
  textOf?: (body: unknown) => string;
  /** May be async. Non-GET routes get the request body (size-capped; .json() answers 400 on bad JSON). */
  answer: (params: string[], query: URLSearchParams, body: RequestBody, filter?: ItemFilter) => unknown;
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
    {
      pattern: ["v1", "catalog", "services"],
      consul: true,
      filterSchema: CATALOG_SERVICE,
      filterInAnswer: true,
      answer: (_params, q, _body, filter) =>
        catalogServices(registry, options.consul, filter, nodeMetaQuery(q)),
    },
    {
      pattern: ["v1", "catalog", "service", ":name"],
      consul: true,
      filterSchema: CATALOG_SERVICE,
      answer: ([name], q) =>
        catalogService(registry, name!, q.getAll("tag"), options.consul, nodeMetaQuery(q)),
    },
    {
      pattern: ["v1", "health", "service", ":name"],
      consul: true,
      filterSchema: HEALTH_SERVICE,
      answer: ([name], q) =>
        healthService(
          registry,
          name!,
          consulFlag(q, "passing"),
          q.getAll("tag"),
          options.consul,
          nodeMetaQuery(q),
        ),
    },
    {
      pattern: ["v1", "health", "checks", ":name"],
      consul: true,
      filterSchema: HEALTH_CHECK,
      answer: ([name]) => healthChecks(registry, name!, options.consul),
    },
    {
      pattern: ["v1", "health", "state", ":state"],
      consul: true,
      filterSchema: HEALTH_CHECK,
      checkParam: checkState,
      answer: ([state]) => healthState(registry, state!, options.consul),
    },
    {
      pattern: ["v1", "health", "node", ":node"],
      consul: true,
      filterSchema: HEALTH_CHECK,
      checkParam: nodeParam,
      answer: ([node]) => healthNode(registry, node!, options.consul),
    },
    { pattern: ["v1", "catalog", "datacenters"], consul: true, answer: () => [DATACENTER] },
    ...(options.extraRoutes ?? []),
  ];
  const mutations = new RateLimiter(options.mutationLimit);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://control-plane");
    } catch {
      throw new HttpError(400, `the request target "${req.url}" is not a valid path`);
    }
    // Auth and throttling come first and cover every route, including ones added later.
    requireToken(req, options.token);
    if (isMutation(req.method)) {
      const taken = mutations.take(req.socket.remoteAddress ?? "unknown");
      if (!taken.ok) {
        res.setHeader("Retry-After", String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))));
        throw new HttpError(429, `too many changes from this client; retry after ${taken.retryAfterMs} ms`);
      }
    }
    // Open like the API's GETs: the page holds no data, it reads /api/v1 as any client does.
    if (options.dashboard?.(req.method, url.pathname, res)) return;
    const segments = url.pathname.split("/").filter((s) => s !== "");
    if (options.config && segments[0] === "api" && segments[1] === "v1" && segments[2] === "config") {
      const path = segments.slice(3).map((s) => decodeURIComponent(s));
      return handleConfigRequest(options.config, req, res, path, url.searchParams);
    }
    if (options.kv && segments[0] === "v1" && segments[1] === "kv") {
      const dc = url.searchParams.get("dc");
      if (dc !== null && dc !== "" && dc !== DATACENTER)
        throw new HttpError(
          500,
          `No path to datacenter "${dc}"; this control plane serves only "${DATACENTER}"`,
        );
      const key = decodeURIComponent(url.pathname.replace(/^\/v1\/kv\/?/, ""));
      return handleKv(options.kv, req, res, key, url.searchParams, closing.signal);
    }
    if (options.streams && (await options.streams(req, res, url))) return;
    const candidates = routes.filter((r) => pathMatches(r, segments));
    if (candidates.length === 0) {
      throw new HttpError(
        404,
        `no route for ${req.method} ${url.pathname}; see /api/v1/services or the Consul /v1/catalog/services`,
      );
    }
    const method = req.method === "HEAD" ? "GET" : req.method;
    const route = candidates.find((r) => (r.method ?? "GET") === method);
    if (!route) {
      const allowed = [...new Set(candidates.map((r) => r.method ?? "GET"))];
      res.setHeader("Allow", allowed.join(", "));
      throw new HttpError(
        405,
        `${req.method} is not supported on ${url.pathname}; use ${allowed.join(" or ")}`,
      );
    }
    if (route.secret) requireToken(req, options.token, true);
    const match = { route, params: paramsOf(route, segments) };
    for (const name of match.params) {
      const problem = route.checkParam
        ? route.checkParam(name)
        : isServiceName(name)
          ? undefined
          : `"${name}" is not a valid service name (letters, digits, '-', '_', '.'; at most 63)`;
      if (problem) throw new HttpError(400, problem);
    }
    const dc = url.searchParams.get("dc");
    if (match.route.consul && dc !== null && dc !== "" && dc !== DATACENTER) {
      throw new HttpError(
        500,
        `No path to datacenter "${dc}"; this control plane serves only "${DATACENTER}"`,
      );
    }
    const filter = match.route.consul
      ? consulFilterOf(url.searchParams, match.route.filterSchema)
      : undefined;
    const index = method === "GET" ? url.searchParams.get("index") : null;
    if (index !== null) {
      const wait = url.searchParams.get("wait");
      const waitMs = wait === null ? DEFAULT_WAIT_MS : parseWait(wait);
      const gone = new AbortController();
      res.on("close", () => gone.abort());
      await waitForIndex(registry, parseIndex(index), waitMs, AbortSignal.any([gone.signal, closing.signal]));
      if (res.destroyed) return;
    }
    const request = method === "GET" ? EMPTY_BODY : await readBody(req);
    let body = await match.route.answer(match.params, url.searchParams, request, filter);
    if (filter && !match.route.filterInAnswer)
      body = applyFilter(body, filter, match.route.filterValues === true);
    const headers = match.route.consul ? consulHeaders(registry.index()) : {};
    const status = match.route.statusOf?.(body) ?? 200;
    if (match.route.textOf && url.searchParams.get("format") === "text") {
      res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", ...headers });
      res.end(match.route.textOf(body));
      return;
    }
    sendJson(res, status, body, headers);
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

/** `?filter=` of a Consul route, compiled; a malformed one, or one naming a field the route's items
 * lack, is a 400 saying what is wrong. */
function consulFilterOf(query: URLSearchParams, schema: FilterSchema | undefined): ItemFilter | undefined {
  const text = query.get("filter");
  if (text === null || text.trim() === "") return undefined;
  try {
    return compileFilter(text, schema);
  } catch (err) {
    if (err instanceof FilterError)
      throw new HttpError(400, `Failed to create boolean expression evaluator: ${err.message}`);
    throw err;
  }
}

/** A list keeps the items the filter selects; a map of objects (filterValues) the entries whose value it selects. */
function applyFilter(body: unknown, keep: ItemFilter, values: boolean): unknown {
  if (Array.isArray(body)) return body.filter(keep);
  if (values && body !== null && typeof body === "object")
    return Object.fromEntries(Object.entries(body).filter(([, v]) => keep(v)));
  return body;
}

function pathMatches(route: Route, segments: string[]): boolean {
  return (
    route.pattern.length === segments.length &&
    route.pattern.every((p, i) => p.startsWith(":") || p === segments[i])
  );
}

function paramsOf(route: Route, segments: string[]): string[] {
  return route.pattern.flatMap((p, i) => (p.startsWith(":") ? [decodeURIComponent(segments[i]!)] : []));
}
