// GET /api/v1/logs?follow=true: the matching recent lines, then every new matching line as it is
// stored, as NDJSON. Subscribing before the history query and skipping ids already sent means no
// line falls in the gap and none is printed twice. A slow reader never grows our memory: past a
// bound, lines are dropped and a {"dropped": N} line says how many.
import type { ServerResponse } from "node:http";
import { ftsMatcher } from "./log-match";
import type { StoredLog } from "./log-store";
import type { LogSearch, LogView } from "./query-types";
import type { TelemetryStore } from "./telemetry-store";

/** Bytes queued for a slow client before lines are dropped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** A blank line this often keeps idle connections open through proxies and finds dead clients. */
const HEARTBEAT_MS = 15_000;
const LEVELS = ["debug", "info", "warn", "error"];

export function logView(l: StoredLog): LogView {
  return {
    id: l.id,
    time: new Date(Number(l.timeNs / 1_000_000n)).toISOString(),
    service: l.service,
    container: l.container,
    instance: l.instance,
    level: l.level,
    source: l.source,
    message: l.message,
    traceId: l.traceId,
    spanId: l.spanId,
    attributes: l.attributes,
  };
}

/**
 * The live-side filter: the same fields as the SQL query, and text matched by the rules of its
 * full-text index (log-match.ts), so a follow streams exactly the lines a search would find.
 */
export function logMatcher(s: LogSearch): (l: StoredLog) => boolean {
  const text = s.q === undefined ? () => true : ftsMatcher(s.q);
  const minLevel = s.level === undefined ? 0 : LEVELS.indexOf(s.level);
  return (l) =>
    (s.service === undefined || l.service === s.service) &&
    (s.container === undefined || l.container === s.container) &&
    (s.traceId === undefined || l.traceId === s.traceId) &&
    LEVELS.indexOf(l.level) >= minLevel &&
    text(l.message);
}

export async function followLogs(
  store: TelemetryStore,
  search: LogSearch,
  res: ServerResponse,
): Promise<void> {
  let lastId = 0;
  let live = false;
  let dropped = 0;
  const matches = logMatcher(search);
  const early: StoredLog[] = [];
  const write = (line: string) => {
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      res.write(`${JSON.stringify({ dropped })}\n`);
      dropped = 0;
    }
    res.write(line);
  };
  const send = (l: StoredLog) => {
    if (l.id <= lastId || !matches(l)) return;
    lastId = l.id;
    write(`${JSON.stringify(logView(l))}\n`);
  };
  const unsubscribe = store.followLogs((batch) => {
    if (live) for (const l of batch) send(l);
    else early.push(...batch.filter(matches).slice(0, 10_000 - early.length));
  });
  let heartbeat: NodeJS.Timeout | undefined;
  let gone = false;
  const stop = () => {
    gone = true;
    unsubscribe();
    clearInterval(heartbeat);
  };
  // The response's close fires when the client goes (the request's may fire once its empty body is read).
  res.on("close", stop);
  try {
    const history = await store.queries.run("logs", search);
    // The client may have left while the history query ran.
    if (gone) return;
    res.writeHead(200, {
      "Content-Type": "application/x-ndjson; charset=utf-8",
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
    for (const l of history.logs) {
      lastId = Math.max(lastId, l.id);
      write(`${JSON.stringify(l)}\n`);
    }
    live = true;
    heartbeat = setInterval(() => res.write("\n"), HEARTBEAT_MS);
    for (const l of early) send(l);
    early.length = 0;
    // Headers go out now even when there is no history, so the client knows it is connected.
    if (history.logs.length === 0) res.write("\n");
  } catch (err) {
    stop();
    throw err;
  }
}
