// The wire side of log shipping: one LogSink.Push per batch to the control plane, over the same
// gRPC target the config stream uses (the unix socket, from inside a workload's netns). The batch
// is encoded by hand (log-batch-codec.ts): the same LogBatch bytes protobufjs would send, for a
// fraction of the CPU.
import * as grpc from "@grpc/grpc-js";
import { grpcTarget } from "../../../proto/index";
import { decodePushLogsResponse, encodeLogBatch } from "./log-batch-codec";
import type { SendBatch, ShippedLine } from "./log-shipper";

const PUSH_PATH = "/weft.v1.LogSink/Push";
const identity = (b: Buffer): Buffer => b;

export interface LogSinkSender {
  send: SendBatch;
  close(): void;
}

/** A sender for LogShipper; each push has its own deadline so a stuck sink never holds a batch long. */
export function logSinkSender(target: string, timeoutMs = 5000): LogSinkSender {
  const client = new grpc.Client(grpcTarget(target), grpc.credentials.createInsecure());
  return {
    send: (lines: ShippedLine[], droppedSinceLast: number) =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          PUSH_PATH,
          identity,
          identity,
          encodeLogBatch(lines, droppedSinceLast),
          new grpc.Metadata(),
          { deadline: Date.now() + timeoutMs },
          (err, res) => {
            if (err || !res) reject(err ?? new Error("the log sink answered nothing"));
            else {
              try {
                resolve(decodePushLogsResponse(res));
              } catch (e) {
                reject(e as Error);
              }
            }
          },
        );
      }),
    close: () => client.close(),
  };
}
