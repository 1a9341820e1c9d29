// The wire side of log shipping: one LogSink.Push per batch to the control plane, over the same
// gRPC target the config stream uses (the unix socket, from inside a workload's netns). The batch
// is encoded by hand (log-batch-codec.ts): the same LogBatch bytes protobufjs would send, for a
// fraction of the CPU.
import { grpcTarget } from "../../../proto/index";
import { GrpcChannel } from "../grpc/index";
import { decodePushLogsResponse, encodeLogBatch } from "./log-batch-codec";
import type { SendBatch, ShippedLine } from "./log-shipper";

const PUSH_PATH = "/weft.v1.LogSink/Push";

export interface LogSinkSender {
  send: SendBatch;
  close(): void;
}

/** A sender for LogShipper; each push has its own deadline so a stuck sink never holds a batch long. */
export function logSinkSender(target: string, timeoutMs = 5000): LogSinkSender {
  const channel = new GrpcChannel(grpcTarget(target));
  return {
    send: async (lines: ShippedLine[], droppedSinceLast: number) =>
      decodePushLogsResponse(
        await channel.unary(PUSH_PATH, encodeLogBatch(lines, droppedSinceLast), { timeoutMs }),
      ),
    close: () => channel.close(),
  };
}
