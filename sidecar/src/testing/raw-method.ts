// A grpc-js method definition that passes message bytes through untouched, for test servers that
// stand in for the control plane's services (or any other) without loading a .proto.
import type { MethodDefinition } from "@grpc/grpc-js";

const identity = (b: Buffer): Buffer => b;

export function rawMethod(
  path: string,
  requestStream = false,
  responseStream = false,
): MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}
