import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Endpoint as _weft_v1_Endpoint, Endpoint__Output as _weft_v1_Endpoint__Output } from './weft/v1/Endpoint';
import type { RegistrationClient as _weft_v1_RegistrationClient, RegistrationDefinition as _weft_v1_RegistrationDefinition } from './weft/v1/Registration';
import type { Service as _weft_v1_Service, Service__Output as _weft_v1_Service__Output } from './weft/v1/Service';
import type { ServiceEndpoints as _weft_v1_ServiceEndpoints, ServiceEndpoints__Output as _weft_v1_ServiceEndpoints__Output } from './weft/v1/ServiceEndpoints';
import type { ServicePort as _weft_v1_ServicePort, ServicePort__Output as _weft_v1_ServicePort__Output } from './weft/v1/ServicePort';
import type { SyncEndpointsRequest as _weft_v1_SyncEndpointsRequest, SyncEndpointsRequest__Output as _weft_v1_SyncEndpointsRequest__Output } from './weft/v1/SyncEndpointsRequest';
import type { SyncEndpointsResponse as _weft_v1_SyncEndpointsResponse, SyncEndpointsResponse__Output as _weft_v1_SyncEndpointsResponse__Output } from './weft/v1/SyncEndpointsResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  weft: {
    v1: {
      Endpoint: MessageTypeDefinition<_weft_v1_Endpoint, _weft_v1_Endpoint__Output>
      Registration: SubtypeConstructor<typeof grpc.Client, _weft_v1_RegistrationClient> & { service: _weft_v1_RegistrationDefinition }
      Service: MessageTypeDefinition<_weft_v1_Service, _weft_v1_Service__Output>
      ServiceEndpoints: MessageTypeDefinition<_weft_v1_ServiceEndpoints, _weft_v1_ServiceEndpoints__Output>
      ServicePort: MessageTypeDefinition<_weft_v1_ServicePort, _weft_v1_ServicePort__Output>
      SyncEndpointsRequest: MessageTypeDefinition<_weft_v1_SyncEndpointsRequest, _weft_v1_SyncEndpointsRequest__Output>
      SyncEndpointsResponse: MessageTypeDefinition<_weft_v1_SyncEndpointsResponse, _weft_v1_SyncEndpointsResponse__Output>
    }
  }
}

