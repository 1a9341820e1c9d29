// Reads a batch the log shipper hands its sink back into lines, through the control plane's own
// LogBatch decoder (protobufjs), for tests of what the shipper and the access log send.
import { loadWeftProto } from "../../../proto/grpc";
import type { EncodedLines, ShippedLine } from "../telemetry/log-shipper";

interface DecodedRecord {
  time_unix_nano?: string;
  service?: string;
  container?: string;
  instance?: string;
  level?: string;
  source?: string;
  message?: string;
  trace_id?: string;
  span_id?: string;
  attributes?: Record<string, string>;
}

export function linesOf(batch: EncodedLines): ShippedLine[] {
  const push = loadWeftProto().weft.v1.LogSink.service.Push;
  const { records = [] } = push.requestDeserialize(batch.records) as { records?: DecodedRecord[] };
  return records.map((r) => ({
    timeUnixNano: r.time_unix_nano ?? "0",
    service: r.service ?? "",
    container: r.container ?? "",
    instance: r.instance ?? "",
    level: (r.level ?? "info") as ShippedLine["level"],
    source: (r.source ?? "app") as ShippedLine["source"],
    message: r.message ?? "",
    traceId: r.trace_id ?? "",
    spanId: r.span_id ?? "",
    attributes: { ...r.attributes },
  }));
}
