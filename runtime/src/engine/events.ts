// The engine's event log: the last 1000 events in memory (also appended to STATE/events.jsonl, so a
// restarted daemon still answers `weft events --since`), and live listeners.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Clock, Logger } from "./parts";
import type { EngineEvent } from "./types";

const KEEP = 1000;

export class EventLog {
  private readonly recent: EngineEvent[] = [];
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private appended = 0;

  constructor(
    private readonly file: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    if (!existsSync(file)) return;
    try {
      const lines = readFileSync(file, "utf8").split("\n").filter(Boolean).slice(-KEEP);
      for (const line of lines) this.recent.push(JSON.parse(line) as EngineEvent);
      // Keeps the file from growing without bound: rewrite it with what is kept.
      writeFileSync(file, lines.map((l) => `${l}\n`).join(""));
    } catch (err) {
      logger.warn(`events file ${file} unreadable, starting afresh: ${(err as Error).message}`);
    }
  }

  emit(
    type: EngineEvent["type"],
    action: string,
    id: string,
    attributes: Record<string, string>,
  ): EngineEvent {
    const now = this.clock.now();
    const event: EngineEvent = {
      type,
      action,
      id,
      attributes,
      time: now.toISOString(),
      timeNano: now.getTime() * 1_000_000,
    };
    this.recent.push(event);
    if (this.recent.length > KEEP) this.recent.shift();
    try {
      appendFileSync(this.file, `${JSON.stringify(event)}\n`);
      if (++this.appended > KEEP * 2) {
        writeFileSync(this.file, this.recent.map((e) => `${JSON.stringify(e)}\n`).join(""));
        this.appended = 0;
      }
    } catch (err) {
      this.logger.warn(`cannot append to ${this.file}: ${(err as Error).message}`);
    }
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.logger.warn(`event listener failed: ${(err as Error).message}`);
      }
    }
    return event;
  }

  subscribe(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(since?: Date, until?: Date): EngineEvent[] {
    const lo = since?.getTime() ?? Number.NEGATIVE_INFINITY;
    const hi = until?.getTime() ?? Number.POSITIVE_INFINITY;
    return this.recent.filter((e) => {
      const t = e.timeNano / 1_000_000;
      return t >= lo && t <= hi;
    });
  }
}

/** The keys `docker events --filter` (and `weft events --filter`) take. */
export const EVENT_FILTER_KEYS: readonly string[] = [
  "type",
  "container",
  "event",
  "image",
  "label",
  "volume",
];

/**
 * Docker's event filters as a predicate: values of one key are alternatives (labels: all must
 * match), keys all apply.
 * type, container (id, id prefix or name), event (an action, "health_status" its every status),
 * image, volume, label (KEY or KEY=VALUE). Keys are checked by the caller (EVENT_FILTER_KEYS).
 */
export function eventMatcher(filters: Map<string, string[]>): (e: EngineEvent) => boolean {
  const any = (key: string, test: (v: string) => boolean) => {
    const values = filters.get(key);
    return !values || values.length === 0 || values.some(test);
  };
  return (e) =>
    any("type", (v) => v === e.type) &&
    any("container", (v) => e.type === "container" && (e.id.startsWith(v) || e.attributes.name === v)) &&
    any("event", (v) => e.action === v || e.action.startsWith(`${v}:`)) &&
    any("image", (v) => e.attributes.image === v || (e.type === "image" && e.id === v)) &&
    any("volume", (v) => e.type === "volume" && e.id === v) &&
    (filters.get("label") ?? []).every((v) => {
      const [k, val] = v.split(/=(.*)/s);
      return k !== undefined && (val === undefined ? k in e.attributes : e.attributes[k] === val);
    });
}
