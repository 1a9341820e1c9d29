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

/** Stores decoded spans. Throws TelemetryError STORE_FAILED when the database refuses the batch. */
export function ingestSpans(store: TelemetryStore, counters: IngestCounters, d: DecodedSpans): IngestResult {
  store.addSpans(d.spans);
  counters.spansAccepted += d.spans.length;
  counters.spansRejected += d.rejected;
  return {
    rejected: d.rejected,
    message: d.rejected === 0 ? "" : `${d.rejected} spans had a missing or all-zero trace or span id`,
  };
}

export function ingestLogs(store: TelemetryStore, counters: IngestCounters, d: DecodedLogs): IngestResult {
  store.addLogs(d.logs);
  counters.logsAccepted += d.logs.length;
  return { rejected: 0, message: "" };
}
