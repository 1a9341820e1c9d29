// The wire side of log shipping: one LogSink.Push per batch to the control plane, over the same
// gRPC target the config stream uses (the unix socket, from inside a workload's netns). The batch
// was encoded line by line by the shipper (log-batch-codec.ts): the same LogBatch bytes protobufjs
// would send, for a fraction of the CPU.
import { grpcTarget } from "../../../proto/index";
import { GrpcChannel } from "../grpc/index";
import { decodePushLogsResponse, logBatch } from "./log-batch-codec";
import type { EncodedLines, SendBatch } from "./log-shipper";

const PUSH_PATH = "/weft.v1.LogSink/Push";

export interface LogSinkSender {
  send: SendBatch;
  close(): void;
}

/** A sender for LogShipper; each push has its own deadline so a stuck sink never holds a batch long. */
export function logSinkSender(target: string, timeoutMs = 5000): LogSinkSender {
  const channel = new GrpcChannel(grpcTarget(target));
  return {
    send: async (batch: EncodedLines, droppedSinceLast: number) =>
      decodePushLogsResponse(
        await channel.unary(PUSH_PATH, logBatch(batch.records, droppedSinceLast), { timeoutMs }),
      ),
    close: () => channel.close(),
  };
}
