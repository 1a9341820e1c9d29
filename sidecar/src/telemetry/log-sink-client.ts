// The wire side of log shipping: one LogSink.Push per batch to the control plane, over the same
// gRPC target the config stream uses (the unix socket, from inside a workload's netns).
import * as grpc from "@grpc/grpc-js";
import { grpcTarget, type LogRecord, type LogSinkClient, loadWeftProto } from "../../../proto/index";
import type { SendBatch, ShippedLine } from "./log-shipper";

export interface LogSinkSender {
  send: SendBatch;
  close(): void;
}

function toWire(l: ShippedLine): LogRecord {
  return {
    time_unix_nano: l.timeUnixNano,
    service: l.service,
    container: l.container,
    instance: l.instance,
    level: l.level,
    source: l.source,
    message: l.message,
    trace_id: l.traceId,
    span_id: l.spanId,
    attributes: l.attributes,
  };
}

/** A sender for LogShipper; each push has its own deadline so a stuck sink never holds a batch long. */
export function logSinkSender(target: string, timeoutMs = 5000): LogSinkSender {
  const proto = loadWeftProto();
  const client: LogSinkClient = new proto.weft.v1.LogSink(
    grpcTarget(target),
    grpc.credentials.createInsecure(),
  );
  return {
    send: (lines, droppedSinceLast) =>
      new Promise((resolve, reject) => {
        client.Push(
          { records: lines.map(toWire), dropped_since_last: String(droppedSinceLast) },
          { deadline: Date.now() + timeoutMs },
          (err, res) => {
            if (err || !res) reject(err ?? new Error("the log sink answered nothing"));
            else resolve({ accepted: Number(res.accepted), dropped: Number(res.dropped) });
          },
        );
      }),
    close: () => client.close(),
  };
}
