// The OTLP/gRPC receiver (default 127.0.0.1:4317): TraceService/Export and LogsService/Export.
// Messages stay raw buffers through grpc-js and are decoded by otlp-protobuf.ts, so no OTLP .proto
// files are needed at run time; grpc-js itself handles gzip and the message size limit.
import * as grpc from "@grpc/grpc-js";
import { TelemetryError } from "./errors";
import { type IngestCounters, ingestLogs, ingestSpans } from "./ingest";
import { decodeLogsRequest, decodeTraceRequest } from "./otlp-protobuf";
import { exportResponse } from "./otlp-responses";
import type { TelemetryStore } from "./telemetry-store";
import { LIMITS } from "./types";

const identity = (b: Buffer) => b;

function exportMethod(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

export const TRACE_SERVICE: grpc.ServiceDefinition = {
  Export: exportMethod("/opentelemetry.proto.collector.trace.v1.TraceService/Export"),
};
export const LOGS_SERVICE: grpc.ServiceDefinition = {
  Export: exportMethod("/opentelemetry.proto.collector.logs.v1.LogsService/Export"),
};

export interface OtlpGrpcOptions {
  store: TelemetryStore;
  counters: IngestCounters;
  log: (message: string) => void;
}

function handler(
  o: OtlpGrpcOptions,
  ingest: (body: Buffer) => { rejected: number; message: string },
): grpc.handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    try {
      const result = ingest(call.request);
      callback(null, exportResponse(result.rejected, result.message));
    } catch (err) {
      if (err instanceof TelemetryError && err.code === "BAD_OTLP") {
        o.counters.badRequests++;
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: err.message });
      }
      if (err instanceof TelemetryError && err.code === "STORE_FAILED") {
        return callback({ code: grpc.status.UNAVAILABLE, details: err.message });
      }
      o.log(`OTLP/gRPC export failed: ${(err as Error).stack}`);
      callback({ code: grpc.status.INTERNAL, details: (err as Error).message });
    }
  };
}

export function createOtlpGrpcServer(o: OtlpGrpcOptions): grpc.Server {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": LIMITS.maxRequestBytes,
  });
  addOtlpServices(server, o);
  return server;
}

/** OTLP's trace and logs services on a server: the receiver's own, or the control plane's main one
 * (its unix socket is how sidecars in workload namespaces reach it). */
export function addOtlpServices(server: grpc.Server, o: OtlpGrpcOptions): void {
  server.addService(TRACE_SERVICE, {
    Export: handler(o, (body) => ingestSpans(o.store, o.counters, decodeTraceRequest(body))),
  });
  server.addService(LOGS_SERVICE, {
    Export: handler(o, (body) =>
      ingestLogs(o.store, o.counters, decodeLogsRequest(body, BigInt(Date.now()) * 1_000_000n)),
    ),
  });
}
