// The telemetry REST API (docs/INTERFACES.md, "Observability"): trace search, one trace, the service
// graph, a service's instances and log search on the control plane's HTTP port, every query run by
// the query worker.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Route } from "../api/http-server";
import { HttpError } from "../api/respond";
import { TelemetryError } from "./errors";
import { followLogs } from "./follow";
import {
  checkNoParameters,
  isFollow,
  parseGraphQuery,
  parseInstancesQuery,
  parseLogSearch,
  parseTraceSearch,
} from "./rest-params";
import type { TelemetryStore } from "./telemetry-store";
import type { QueryHandlers } from "./trace-queries";

async function query<K extends keyof QueryHandlers>(
  store: TelemetryStore,
  op: K,
  params: Parameters<QueryHandlers[K]>[0],
): Promise<ReturnType<QueryHandlers[K]>> {
  try {
    return await store.queries.run(op, params);
  } catch (err) {
    if (err instanceof TelemetryError) throw new HttpError(503, err.message);
    throw err;
  }
}

export interface TelemetryStatus {
  otlpGrpc: string;
  otlpHttp: string;
  spans: { accepted: number; rejected: number; storedBytes: number };
  logs: { accepted: number; dropped: number; storedBytes: number; followers: number };
  badRequests: number;
}

export function telemetryRoutes(store: TelemetryStore, status: () => TelemetryStatus): Route[] {
  return [
    // Ingest counters and store sizes: where an operator sees that lines were dropped.
    { pattern: ["api", "v1", "telemetry"], consul: false, answer: () => status() },
    {
      pattern: ["api", "v1", "traces"],
      consul: false,
      answer: (_p, q) => query(store, "traces", parseTraceSearch(q)),
    },
    {
      pattern: ["api", "v1", "traces", ":traceId"],
      consul: false,
      checkParam: (v) =>
        /^[0-9a-fA-F]{32}$/.test(v) ? undefined : `a trace id is 32 hex characters, got "${v}"`,
      answer: async ([id], q) => {
        checkNoParameters(q);
        const traceId = id!.toLowerCase();
        const trace = await query(store, "trace", { traceId });
        if (!trace) {
          throw new HttpError(
            404,
            `trace ${traceId} not found: it was not sampled (health probes and sampled-out requests still log their trace id), has not arrived yet, or aged out (--trace-retention); its logs: 'weft mesh-logs --trace ${traceId}'`,
          );
        }
        return trace;
      },
    },
    {
      pattern: ["api", "v1", "graph"],
      consul: false,
      answer: (_p, q) => query(store, "graph", parseGraphQuery(q)),
    },
    {
      // Each replica's share of a service's traffic, its errors and latency (the service page's endpoints).
      pattern: ["api", "v1", "services", ":service", "instances"],
      consul: false,
      answer: ([service], q) => query(store, "instances", parseInstancesQuery(service!, q)),
    },
    {
      pattern: ["api", "v1", "logs"],
      consul: false,
      answer: (_p, q) => query(store, "logs", parseLogSearch(q)),
    },
  ];
}

/**
 * Streaming responses the JSON route table cannot express: GET /api/v1/logs?follow=true. Returns
 * false when the request is not one of them (the route table answers it).
 */
export function telemetryStreams(store: TelemetryStore) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (url.pathname.replace(/\/+$/, "") !== "/api/v1/logs" || !isFollow(url.searchParams)) return false;
    if (req.method !== "GET") return false;
    try {
      await followLogs(store, parseLogSearch(url.searchParams), res);
    } catch (err) {
      if (err instanceof TelemetryError) throw new HttpError(503, err.message);
      throw err;
    }
    return true;
  };
}
