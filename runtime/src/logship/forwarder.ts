// Follows every running container's stdout and stderr and hands each line to a log shipper (the
// control plane's log sink), tagged with the container, its service and the node. Each line's level
// and trace id are read from the line when it says them (`level=error`, JSON "level", `trace_id=`,
// W3C ids), so the logs view can link a line to its trace. Never blocks the containers: the
// shipper's buffer is bounded and drops.
import type { ShippedLine } from "../../../sidecar/src/index";
import type { ContainerState, EngineEvent, LogEntry, LogQuery } from "../engine/types";
import { levelOf } from "./line-level";

/** A line as the log shipper sends it to the sink (the sidecar's shipper serves both). */
export type ForwardedLine = ShippedLine;

/** What the forwarder needs of the engine. */
export interface ForwarderEngine {
  list(all: boolean): Promise<ContainerState[]>;
  /** The signal ends a follow (a quiet stream would otherwise poll its log file for ever). */
  logStream(ref: string, q: LogQuery, signal?: AbortSignal): AsyncIterable<LogEntry>;
  subscribe(listener: (e: EngineEvent) => void): () => void;
}

export interface ForwarderOptions {
  engine: ForwarderEngine;
  shipper: { push(line: ForwardedLine): void };
  /** The node name lines are tagged with. */
  node: string;
  onError?: (message: string) => void;
}

const MAX_MESSAGE = 16 * 1024;

export class ContainerLogForwarder {
  private readonly following = new Map<string, AbortController>();
  private unsubscribe?: () => void;
  private closed = false;

  constructor(private readonly o: ForwarderOptions) {}

  /** Follows what runs now (from now on) and every container that starts later. */
  async start(): Promise<void> {
    this.unsubscribe = this.o.engine.subscribe((e) => {
      if (e.type !== "container") return;
      // From the start: lines the app writes before this follow begins are not lost.
      if (e.action === "start") void this.follow(e.id, undefined, true);
      if (e.action === "destroy") this.unfollow(e.id);
    });
    for (const c of await this.o.engine.list(false)) void this.follow(c.id, c);
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    for (const id of [...this.following.keys()]) this.unfollow(id);
  }

  private async follow(id: string, known?: ContainerState, fromStart = false): Promise<void> {
    if (this.closed) return;
    // A restart can come before the previous run's follow has seen its exit: the new run wins.
    if (fromStart) this.unfollow(id);
    else if (this.following.has(id)) return;
    const stop = new AbortController();
    this.following.set(id, stop);
    try {
      const state = known ?? (await this.o.engine.list(true)).find((c) => c.id === id);
      if (!state) return;
      const stream = this.o.engine.logStream(
        id,
        {
          stdout: true,
          stderr: true,
          follow: true,
          since: fromStart && state.startedAt ? new Date(state.startedAt) : new Date(),
        },
        stop.signal,
      );
      const it = stream[Symbol.asyncIterator]();
      // A quiet stream would hold a pending next() forever: the abort wins the race instead.
      const aborted = new Promise<IteratorResult<LogEntry>>((resolve) =>
        stop.signal.addEventListener("abort", () => {
          void it.return?.();
          resolve({ done: true, value: undefined });
        }),
      );
      for (;;) {
        const next = await Promise.race([it.next(), aborted]);
        if (next.done || stop.signal.aborted) break;
        this.o.shipper.push(toLine(next.value, state, this.o.node));
      }
    } catch (err) {
      if (!stop.signal.aborted)
        this.o.onError?.(`following the logs of ${id.slice(0, 12)}: ${(err as Error).message}`);
    } finally {
      if (this.following.get(id) === stop) this.following.delete(id);
    }
  }

  private unfollow(id: string): void {
    this.following.get(id)?.abort();
    this.following.delete(id);
  }
}

/** A log line as the sink stores it; exported for tests. */
export function toLine(entry: LogEntry, c: ContainerState, node: string): ForwardedLine {
  let message = entry.data.toString("utf8").replace(/\r?\n$/, "");
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`;
  const json = parseJsonLine(message);
  const level = levelOf(json, message) ?? (entry.stream === "stderr" ? "warn" : "info");
  const traceId =
    stringField(json, ["trace_id", "traceId", "traceid"]) ??
    /\btrace_?id[=:]\s*"?([\da-f]{32})\b/i.exec(message)?.[1] ??
    /\b00-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}\b/.exec(message)?.[1] ??
    "";
  const spanId =
    stringField(json, ["span_id", "spanId", "spanid"]) ??
    /\bspan_?id[=:]\s*"?([\da-f]{16})\b/i.exec(message)?.[1] ??
    "";
  const ms = Date.parse(entry.time);
  // The monitor stamps nanoseconds; keep them when the time string has them.
  const nanos = /\.(\d{1,9})/.exec(entry.time)?.[1]?.padEnd(9, "0") ?? "000000000";
  const timeUnixNano = Number.isNaN(ms) ? "0" : `${Math.floor(ms / 1000)}${nanos}`;
  return {
    timeUnixNano,
    service: c.service ?? c.labels["weft.compose.service"] ?? c.name,
    container: c.name,
    instance: node,
    level,
    source: entry.stream,
    message,
    traceId: traceId.toLowerCase(),
    spanId: spanId.toLowerCase(),
    attributes: { "container.id": c.id.slice(0, 12), image: c.image },
  };
}

function parseJsonLine(message: string): Record<string, unknown> | undefined {
  if (!message.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(message) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function stringField(json: Record<string, unknown> | undefined, names: string[]): string | undefined {
  for (const n of names) if (typeof json?.[n] === "string") return json[n] as string;
  return undefined;
}
