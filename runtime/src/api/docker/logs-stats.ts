// GET /containers/{id}/logs (multiplexed frames unless the container has a tty; follow, since, until,
// tail, timestamps) and GET /containers/{id}/stats (Docker's stats JSON, one-shot or a stream).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ContainerStats, LogEntry } from "../../engine/types";
import type { DockerEngine } from "./engine";
import { badRequest, clientGone, flag, frame, startStream, unixTime } from "./wire";

export const RAW_STREAM = "application/vnd.docker.raw-stream";
export const MUX_STREAM = "application/vnd.docker.multiplexed-stream";

/** A log line as Docker writes it: with `timestamps`, the RFC 3339 time and a space first. */
export function logChunk(e: LogEntry, timestamps: boolean, tty: boolean): Buffer {
  const data = timestamps ? Buffer.concat([Buffer.from(`${e.time} `), e.data]) : e.data;
  return tty ? data : frame(e.stream, data);
}

function tailOf(query: URLSearchParams): number | undefined {
  const tail = query.get("tail");
  if (tail === null || tail === "" || tail === "all") return undefined;
  if (!/^\d+$/.test(tail)) throw badRequest(`tail must be a number of lines or "all", got "${tail}"`);
  return Number(tail);
}

export async function streamLogs(
  engine: DockerEngine,
  req: IncomingMessage,
  res: ServerResponse,
  ref: string,
  query: URLSearchParams,
): Promise<void> {
  const stdout = flag(query, "stdout");
  const stderr = flag(query, "stderr");
  if (!stdout && !stderr) throw badRequest("Bad parameters: you must choose at least one stream");
  const state = await engine.inspect(ref);
  const tty = state.tty === true;
  const timestamps = flag(query, "timestamps");
  // A follower stops when the client goes away: the signal ends the engine's stream even while it
  // waits for a new line (a return() would wait for that line first).
  const gone = new AbortController();
  const entries = engine.logStream(
    state.id,
    {
      stdout,
      stderr,
      follow: flag(query, "follow"),
      since: unixTime(query, "since"),
      until: unixTime(query, "until", true),
      tail: tailOf(query),
    },
    gone.signal,
  );
  startStream(res, tty ? RAW_STREAM : MUX_STREAM);
  const iterator = entries[Symbol.asyncIterator]();
  void clientGone(req, res).then(() => {
    gone.abort();
    void iterator.return?.();
  });
  for (;;) {
    const next = await iterator.next();
    if (next.done || res.destroyed) break;
    res.write(logChunk(next.value, timestamps, tty));
  }
  res.end();
}

/** Docker's stats JSON from one Weft sample. The CLI's CPU % is cpuDelta / systemDelta * cpus * 100,
 * so a nominal one-second system delta carries Weft's measured percentage through unchanged. */
export function dockerStats(s: ContainerStats, onlineCpus: number) {
  const systemDelta = 1e9 * onlineCpus;
  const cpuDelta = Math.round((s.cpuPercent / 100) * 1e9);
  const systemNow = Math.round(Date.parse(s.read) * 1e6);
  const cpu = (total: number, system: number) => ({
    cpu_usage: { total_usage: total, usage_in_kernelmode: 0, usage_in_usermode: total },
    system_cpu_usage: system,
    online_cpus: onlineCpus,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  });
  return {
    name: `/${s.name}`,
    id: s.id,
    read: s.read,
    preread: new Date(Date.parse(s.read) - 1000).toISOString(),
    pids_stats: { current: s.pids },
    blkio_stats: { io_service_bytes_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu(s.cpuUsageNs, systemNow),
    precpu_stats: cpu(Math.max(0, s.cpuUsageNs - cpuDelta), systemNow - systemDelta),
    memory_stats: { usage: s.memoryBytes, stats: {}, limit: s.memoryLimitBytes },
    networks: {
      eth0: {
        rx_bytes: s.netRxBytes,
        rx_packets: 0,
        rx_errors: 0,
        rx_dropped: 0,
        tx_bytes: s.netTxBytes,
        tx_packets: 0,
        tx_errors: 0,
        tx_dropped: 0,
      },
    },
  };
}

export async function streamStats(
  engine: DockerEngine,
  req: IncomingMessage,
  res: ServerResponse,
  ref: string,
  query: URLSearchParams,
  onlineCpus: number,
): Promise<void> {
  const first = await engine.stats(ref);
  if (!flag(query, "stream", true) || flag(query, "one-shot")) {
    const text = JSON.stringify(dockerStats(first, onlineCpus));
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  startStream(res, "application/json");
  let gone = false;
  void clientGone(req, res).then(() => {
    gone = true;
  });
  let sample: ContainerStats | undefined = first;
  while (!gone && sample) {
    res.write(`${JSON.stringify(dockerStats(sample, onlineCpus))}\n`);
    // Each sample already spans about half a second; this keeps Docker's one line a second.
    await new Promise((r) => setTimeout(r, 500));
    sample = gone ? undefined : await engine.stats(ref).catch(() => undefined);
  }
  res.end();
}
