// The sidecar's lean gRPC client (see channel.ts for why it is not grpc-js).
export { type CallOptions, GrpcChannel, type StreamingCall } from "./channel";
export { GrpcStatus, GrpcStatusError } from "./status";
