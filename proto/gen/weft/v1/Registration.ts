// Original file: weft/v1/registration.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { SyncEndpointsRequest as _weft_v1_SyncEndpointsRequest, SyncEndpointsRequest__Output as _weft_v1_SyncEndpointsRequest__Output } from '../../weft/v1/SyncEndpointsRequest';
import type { SyncEndpointsResponse as _weft_v1_SyncEndpointsResponse, SyncEndpointsResponse__Output as _weft_v1_SyncEndpointsResponse__Output } from '../../weft/v1/SyncEndpointsResponse';

export interface RegistrationClient extends grpc.Client {
  SyncEndpoints(argument: _weft_v1_SyncEndpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  SyncEndpoints(argument: _weft_v1_SyncEndpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_weft_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  SyncEndpoints(argument: _weft_v1_SyncEndpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  SyncEndpoints(argument: _weft_v1_SyncEndpointsRequest, callback: grpc.requestCallback<_weft_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  syncEndpoints(argument: _weft_v1_SyncEndpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  syncEndpoints(argument: _weft_v1_SyncEndpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_weft_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  syncEndpoints(argument: _weft_v1_SyncEndpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  syncEndpoints(argument: _weft_v1_SyncEndpointsRequest, callback: grpc.requestCallback<_weft_v1_SyncEndpointsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface RegistrationHandlers extends grpc.UntypedServiceImplementation {
  SyncEndpoints: grpc.handleUnaryCall<_weft_v1_SyncEndpointsRequest__Output, _weft_v1_SyncEndpointsResponse>;
  
}

export interface RegistrationDefinition extends grpc.ServiceDefinition {
  SyncEndpoints: MethodDefinition<_weft_v1_SyncEndpointsRequest, _weft_v1_SyncEndpointsResponse, _weft_v1_SyncEndpointsRequest__Output, _weft_v1_SyncEndpointsResponse__Output>
}
