// Weft API routes for the lifecycle verbs (start, kill, restart, wait) and the two streams: logs
// (NDJSON with format=json, else the raw bytes) and events (NDJSON). Streams end when the client goes.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { WaitCondition } from "../engine/engine";
import type { ContainerState, EngineEvent, LogEntry, LogQuery } from "../engine/types";
import { RuntimeError } from "../errors";
import { queryBool, sendJson } from "./http";

/** What these routes need of the engine. */
export interface LifecycleApi {
  start(ref: string): Promise<ContainerState>;
  kill(ref: string, signal?: string): Promise<void>;
  restart(ref: string, timeoutS?: number): Promise<ContainerState>;
  pause(ref: string): Promise<ContainerState>;
  unpause(ref: string): Promise<ContainerState>;
  wait(ref: string, condition?: WaitCondition): Promise<{ exitCode: number; oomKilled: boolean }>;
  logStream(ref: string, q: LogQuery, signal?: AbortSignal): AsyncIterable<LogEntry>;
  inspect(ref: string): Promise<ContainerState>;
  subscribe(listener: (e: EngineEvent) => void): () => void;
  events(since?: Date, until?: Date): EngineEvent[];
}

function invalid(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}

/** RFC 3339 or Unix seconds (with a fraction), as Docker's since/until. */
export function queryTime(query: URLSearchParams, name: string): Date | undefined {
  const v = query.get(name);
  if (v === null || v === "") return undefined;
  const d = /^\d+(\.\d+)?$/.test(v) ? new Date(Number(v) * 1000) : new Date(v);
  if (Number.isNaN(d.getTime()))
    throw invalid(`${name} must be an RFC 3339 time or Unix seconds, got "${v}"`);
  return d;
}

export function queryTimeout(query: URLSearchParams): number | undefined {
  const t = query.get("t");
  if (t === null || t === "") return undefined;
  if (!/^\d+$/.test(t)) throw invalid(`t must be a whole number of seconds, got "${t}"`);
  return Number(t);
}

/** An AbortSignal that fires when the client disconnects. */
function closed(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.once("close", () => ac.abort());
  return ac.signal;
}

export async function startRoute(engine: LifecycleApi, res: ServerResponse, ref: string): Promise<void> {
  sendJson(res, 200, await engine.start(ref));
}

export async function killRoute(engine: LifecycleApi, res: ServerResponse, ref: string, q: URLSearchParams) {
  await engine.kill(ref, q.get("signal") || "SIGKILL");
  res.writeHead(204).end();
}

export async function restartRoute(
  engine: LifecycleApi,
  res: ServerResponse,
  ref: string,
  q: URLSearchParams,
) {
  sendJson(res, 200, await engine.restart(ref, queryTimeout(q)));
}

export async function waitRoute(engine: LifecycleApi, res: ServerResponse, ref: string, q: URLSearchParams) {
  const condition = q.get("condition") || "not-running";
  if (condition !== "not-running" && condition !== "next-exit" && condition !== "removed") {
    throw invalid(`condition must be not-running, next-exit or removed, got "${condition}"`);
  }
  sendJson(res, 200, await engine.wait(ref, condition));
}

/**
 * GET .../logs?stdout&stderr&follow&since&until&tail&timestamps&format=json. JSON lines are
 * {stream, time, line}; raw output is the bytes (prefixed with the time when timestamps=1).
 */
export async function logsRoute(
  engine: LifecycleApi,
  _req: IncomingMessage,
  res: ServerResponse,
  ref: string,
  query: URLSearchParams,
): Promise<void> {
  const neither = !query.has("stdout") && !query.has("stderr");
  const tailText = query.get("tail");
  let tail: number | undefined;
  if (tailText !== null && tailText !== "" && tailText !== "all") {
    if (!/^\d+$/.test(tailText)) throw invalid(`tail must be a number of lines or "all", got "${tailText}"`);
    tail = Number(tailText);
  }
  const q: LogQuery = {
    stdout: queryBool(query, "stdout", neither),
    stderr: queryBool(query, "stderr", neither),
    follow: queryBool(query, "follow"),
    since: queryTime(query, "since"),
    until: queryTime(query, "until"),
    tail,
  };
  const json = query.get("format") === "json";
  const timestamps = queryBool(query, "timestamps");
  await engine.inspect(ref); // 404 before the 200 header goes out
  const signal = closed(res);
  res.writeHead(200, {
    "Content-Type": json ? "application/x-ndjson" : "text/plain; charset=utf-8",
    "Cache-Control": "no-cache",
  });
  if (q.follow) res.flushHeaders();
  for await (const e of engine.logStream(ref, q, signal)) {
    if (signal.aborted) break;
    if (json)
      res.write(`${JSON.stringify({ stream: e.stream, time: e.time, line: e.data.toString("utf8") })}\n`);
    else res.write(timestamps ? Buffer.concat([Buffer.from(`${e.time} `), e.data]) : e.data);
  }
  res.end();
}

/** GET /weft/v1/events?since&until&follow (default: follow unless until is given) → NDJSON. */
export async function eventsRoute(
  engine: LifecycleApi,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const since = queryTime(query, "since");
  const until = queryTime(query, "until");
  const follow = queryBool(query, "follow", until === undefined);
  const container = query.get("container");
  const matches = (e: EngineEvent) =>
    !container || e.id === container || e.id.startsWith(container) || e.attributes.name === container;
  res.writeHead(200, { "Content-Type": "application/x-ndjson", "Cache-Control": "no-cache" });
  const write = (e: EngineEvent) => {
    if (matches(e)) res.write(`${JSON.stringify(e)}\n`);
  };
  if (!follow) {
    for (const e of engine.events(since, until)) write(e);
    res.end();
    return;
  }
  // Subscribe first, then replay: nothing falls between the two.
  const live: EngineEvent[] = [];
  let replaying = true;
  const off = engine.subscribe((e) => (replaying ? live.push(e) : write(e)));
  if (since) for (const e of engine.events(since, until)) write(e);
  for (const e of live) write(e);
  replaying = false;
  res.flushHeaders();
  await new Promise<void>((resolve) => {
    res.once("close", resolve);
    if (until) {
      const ms = until.getTime() - Date.now();
      setTimeout(() => resolve(), Math.max(0, ms)).unref();
    }
  });
  off();
  res.end();
}
