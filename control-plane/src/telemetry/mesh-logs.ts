// Reading the mesh's logs from the control plane: one search, or a search then every new line
// (follow). `weft mesh-logs` prints with it, and the runtime's `weft logs --service S` calls the
// same function, so both show the same lines the same way.
import { controlPlaneUrl } from "../api/client";
import { ControlPlaneError } from "../errors";
import type { LogView } from "./query-types";

export interface MeshLogsOptions {
  /** The control plane's HTTP API; default $WEFT_CONTROL_PLANE or http://127.0.0.1:15080. */
  controlPlane?: string;
  service?: string;
  container?: string;
  /** Lines at this level or more severe: debug, info, warn, error. */
  level?: string;
  traceId?: string;
  /** Full-text search (words ANDed; "word*" for a prefix). */
  q?: string;
  /** "15m", "2h" or an RFC 3339 time. Default: the last hour. */
  since?: string;
  /** How many recent lines first. Default 100. */
  limit?: number;
  /** Keep the connection open and deliver new lines as they are stored. */
  follow?: boolean;
  /** Stops following (the promise resolves). */
  signal?: AbortSignal;
}

function queryString(o: MeshLogsOptions): string {
  const q = new URLSearchParams();
  const set = (k: string, v: string | number | undefined) => {
    if (v !== undefined && v !== "") q.set(k, String(v));
  };
  set("service", o.service);
  set("container", o.container);
  set("level", o.level);
  set("traceId", o.traceId);
  set("q", o.q);
  set("since", o.since);
  set("limit", o.limit);
  if (o.follow) q.set("follow", "true");
  return q.toString();
}

/**
 * Calls `onLog` for each matching line, oldest first; with `follow`, keeps going until `signal`
 * aborts or the control plane closes the stream. `onDropped` hears of lines the control plane
 * dropped because we read too slowly. Throws ControlPlaneError (UNREACHABLE, INVALID_ARGUMENT).
 */
export async function streamMeshLogs(
  o: MeshLogsOptions,
  onLog: (line: LogView) => void,
  onDropped: (count: number) => void = () => {},
): Promise<void> {
  const base = controlPlaneUrl(o.controlPlane);
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1/logs?${queryString(o)}`, {
      signal: o.follow
        ? o.signal
        : AbortSignal.any([AbortSignal.timeout(30_000), ...(o.signal ? [o.signal] : [])]),
    });
  } catch (err) {
    if (o.signal?.aborted) return;
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ControlPlaneError(
      "UNREACHABLE",
      `cannot reach the control plane at ${base} (${cause}); start it with 'weft control-plane' or point --control-plane / WEFT_CONTROL_PLANE at it`,
    );
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new ControlPlaneError(
      "INVALID_ARGUMENT",
      body.error ?? `the control plane answered HTTP ${res.status}`,
    );
  }
  if (!o.follow) {
    const body = (await res.json()) as { logs: LogView[] };
    for (const l of body.logs) onLog(l);
    return;
  }
  let pending = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      let nl = pending.indexOf("\n");
      while (nl >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
        if (line === "") continue; // heartbeat
        const parsed = JSON.parse(line) as LogView | { dropped: number };
        if ("dropped" in parsed) onDropped(parsed.dropped);
        else onLog(parsed);
      }
    }
  } catch (err) {
    if (o.signal?.aborted) return;
    throw new ControlPlaneError(
      "UNREACHABLE",
      `the log stream from ${base} broke: ${(err as Error).message}`,
    );
  }
}

/** One line as `weft mesh-logs` prints it: time, where it came from, level, message. */
export function formatLogLine(l: LogView): string {
  const where = l.container
    ? `${l.service}/${l.container}`
    : l.instance
      ? `${l.service}@${l.instance}`
      : l.service;
  return `${l.time} ${where} ${l.level.toUpperCase().padEnd(5)} ${l.message}`;
}
