// Original file: weft/v1/telemetry.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { LogBatch as _weft_v1_LogBatch, LogBatch__Output as _weft_v1_LogBatch__Output } from '../../weft/v1/LogBatch';
import type { PushLogsResponse as _weft_v1_PushLogsResponse, PushLogsResponse__Output as _weft_v1_PushLogsResponse__Output } from '../../weft/v1/PushLogsResponse';

export interface LogSinkClient extends grpc.Client {
  Push(argument: _weft_v1_LogBatch, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_PushLogsResponse__Output>): grpc.ClientUnaryCall;
  Push(argument: _weft_v1_LogBatch, metadata: grpc.Metadata, callback: grpc.requestCallback<_weft_v1_PushLogsResponse__Output>): grpc.ClientUnaryCall;
  Push(argument: _weft_v1_LogBatch, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_PushLogsResponse__Output>): grpc.ClientUnaryCall;
  Push(argument: _weft_v1_LogBatch, callback: grpc.requestCallback<_weft_v1_PushLogsResponse__Output>): grpc.ClientUnaryCall;
  push(argument: _weft_v1_LogBatch, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_PushLogsResponse__Output>): grpc.ClientUnaryCall;
  push(argument: _weft_v1_LogBatch, metadata: grpc.Metadata, callback: grpc.requestCallback<_weft_v1_PushLogsResponse__Output>): grpc.ClientUnaryCall;
  push(argument: _weft_v1_LogBatch, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_PushLogsResponse__Output>): grpc.ClientUnaryCall;
  push(argument: _weft_v1_LogBatch, callback: grpc.requestCallback<_weft_v1_PushLogsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface LogSinkHandlers extends grpc.UntypedServiceImplementation {
  Push: grpc.handleUnaryCall<_weft_v1_LogBatch__Output, _weft_v1_PushLogsResponse>;
  
}

export interface LogSinkDefinition extends grpc.ServiceDefinition {
  Push: MethodDefinition<_weft_v1_LogBatch, _weft_v1_PushLogsResponse, _weft_v1_LogBatch__Output, _weft_v1_PushLogsResponse__Output>
}
