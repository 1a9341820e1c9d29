// Original file: weft/v1/discovery.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DiscoveryRequest as _weft_v1_DiscoveryRequest, DiscoveryRequest__Output as _weft_v1_DiscoveryRequest__Output } from '../../weft/v1/DiscoveryRequest';
import type { DiscoveryResponse as _weft_v1_DiscoveryResponse, DiscoveryResponse__Output as _weft_v1_DiscoveryResponse__Output } from '../../weft/v1/DiscoveryResponse';

export interface ConfigDiscoveryClient extends grpc.Client {
  StreamConfig(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_weft_v1_DiscoveryRequest, _weft_v1_DiscoveryResponse__Output>;
  StreamConfig(options?: grpc.CallOptions): grpc.ClientDuplexStream<_weft_v1_DiscoveryRequest, _weft_v1_DiscoveryResponse__Output>;
  streamConfig(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_weft_v1_DiscoveryRequest, _weft_v1_DiscoveryResponse__Output>;
  streamConfig(options?: grpc.CallOptions): grpc.ClientDuplexStream<_weft_v1_DiscoveryRequest, _weft_v1_DiscoveryResponse__Output>;
  
}

export interface ConfigDiscoveryHandlers extends grpc.UntypedServiceImplementation {
  StreamConfig: grpc.handleBidiStreamingCall<_weft_v1_DiscoveryRequest__Output, _weft_v1_DiscoveryResponse>;
  
}

export interface ConfigDiscoveryDefinition extends grpc.ServiceDefinition {
  StreamConfig: MethodDefinition<_weft_v1_DiscoveryRequest, _weft_v1_DiscoveryResponse, _weft_v1_DiscoveryRequest__Output, _weft_v1_DiscoveryResponse__Output>
}
