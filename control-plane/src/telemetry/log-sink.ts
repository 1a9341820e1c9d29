// The LogSink gRPC service (weft.v1.LogSink, proto/weft/v1/telemetry.proto) on the control plane's
// gRPC port and unix socket: sidecars' access logs and daemons' container output arrive here in
// batches. Ingest is bounded: a batch over LIMITS.maxLogBatch is cut, long messages are truncated,
// and losses (ours and the senders') are counted, never hidden.
import * as grpc from "@grpc/grpc-js";
import { loadWeftProto, type WeftProto } from "../../../proto/grpc";
import type { LogBatch__Output, LogRecord__Output, LogSinkHandlers } from "../../../proto/index";
import { TelemetryError } from "./errors";
import type { IngestCounters } from "./ingest";
import type { TelemetryStore } from "./telemetry-store";
import { bound, LATEST_TIME_NS, LIMITS, type LogEntry, normalizeLevel } from "./types";

/** The contract with weft.v1.LogSink (loaded once with the rest of proto/weft/v1). */
export function loadTelemetryProto(): WeftProto {
  return loadWeftProto();
}

const SOURCES = new Set(["access", "stdout", "stderr", "app"]);
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/** A wire record as a bounded domain log line. */
export function logFromWire(r: LogRecord__Output, nowNs: bigint): LogEntry {
  // Not a time the store can keep (not digits, or after 2262): the time it arrived, as for none.
  const given = /^\d{1,20}$/.test(r.time_unix_nano) ? BigInt(r.time_unix_nano) : 0n;
  const time = given <= LATEST_TIME_NS ? given : 0n;
  const attributes: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(r.attributes ?? {})) {
    if (n++ >= LIMITS.maxAttributes) break;
    attributes[bound(k, 256)] = bound(v);
  }
  const traceId = r.trace_id.toLowerCase();
  const spanId = r.span_id.toLowerCase();
  return {
    timeNs: time > 0n ? time : nowNs,
    service: bound(r.service, 256),
    container: bound(r.container, 256),
    instance: bound(r.instance, 256),
    level: normalizeLevel(r.level),
    source: SOURCES.has(r.source) ? r.source : "app",
    message: bound(r.message, LIMITS.maxMessageChars),
    traceId: HEX32.test(traceId) ? traceId : "",
    spanId: HEX16.test(spanId) ? spanId : "",
    attributes,
  };
}

export function logSinkHandlers(
  store: TelemetryStore,
  counters: IngestCounters,
  log: (message: string) => void,
): LogSinkHandlers {
  return {
    Push(call, callback) {
      const batch: LogBatch__Output = call.request;
      const now = BigInt(Date.now()) * 1_000_000n;
      const records = batch.records ?? [];
      const kept = records.slice(0, LIMITS.maxLogBatch).map((r) => logFromWire(r, now));
      const dropped = records.length - kept.length;
      const reported = Number(batch.dropped_since_last) || 0;
      try {
        store.addLogs(kept);
      } catch (err) {
        if (err instanceof TelemetryError)
          return callback({ code: grpc.status.UNAVAILABLE, details: err.message });
        log(`LogSink push failed: ${(err as Error).stack}`);
        return callback({ code: grpc.status.INTERNAL, details: (err as Error).message });
      }
      counters.logsAccepted += kept.length;
      counters.logsDropped += dropped + reported;
      store.logs.droppedLines += dropped + reported;
      callback(null, { accepted: String(kept.length), dropped: String(dropped) });
    },
  };
}

export function addLogSink(
  server: grpc.Server,
  store: TelemetryStore,
  counters: IngestCounters,
  log: (message: string) => void,
): void {
  server.addService(loadTelemetryProto().weft.v1.LogSink.service, logSinkHandlers(store, counters, log));
}
