// What every receiver does with a decoded request: store it, count it, and say what was refused.
import type { DecodedLogs, DecodedSpans } from "./otlp-protobuf";
import type { TelemetryStore } from "./telemetry-store";

export interface IngestCounters {
  spansAccepted: number;
  spansRejected: number;
  logsAccepted: number;
  logsDropped: number;
  badRequests: number;
}

export function newCounters(): IngestCounters {
  return { spansAccepted: 0, spansRejected: 0, logsAccepted: 0, logsDropped: 0, badRequests: 0 };
}

export interface IngestResult {
  rejected: number;
  message: string;
}

/**
 * How far ahead of this control plane's clock a span or log line may be timed. Later ones come from a
 * sender whose clock is wrong: stored, they would head every newest-first list and outlive
 * retention by age, so they are refused (OTLP partial success, which names the sender's clock).
 */
export const MAX_AHEAD_NS = 3600n * 1_000_000_000n;

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

function aheadMessage(n: number, what: string, now: bigint): string {
  const at = new Date(Number(now / 1_000_000n)).toISOString();
  return `${n} ${what} timed more than 1h after this control plane's clock (${at}); check the sending host's clock`;
}

/** Stores decoded spans. Throws TelemetryError STORE_FAILED when the database refuses the batch. */
export function ingestSpans(
  store: TelemetryStore,
  counters: IngestCounters,
  d: DecodedSpans,
  now = nowNs(),
): IngestResult {
  const spans = d.spans.filter((s) => s.startNs <= now + MAX_AHEAD_NS);
  const ahead = d.spans.length - spans.length;
  store.addSpans(spans);
  counters.spansAccepted += spans.length;
  counters.spansRejected += d.rejected + ahead;
  const reasons = [...d.problems].map(([problem, n]) => `${n} ${n === 1 ? "span" : "spans"} had ${problem}`);
  if (ahead > 0) reasons.push(aheadMessage(ahead, "spans were", now));
  return { rejected: d.rejected + ahead, message: reasons.join("; ") };
}

export function ingestLogs(
  store: TelemetryStore,
  counters: IngestCounters,
  d: DecodedLogs,
  now = nowNs(),
): IngestResult {
  const logs = d.logs.filter((l) => l.timeNs <= now + MAX_AHEAD_NS);
  const ahead = d.logs.length - logs.length;
  store.addLogs(logs);
  counters.logsAccepted += logs.length;
  counters.logsDropped += ahead;
  return { rejected: ahead, message: ahead === 0 ? "" : aheadMessage(ahead, "log records were", now) };
}
