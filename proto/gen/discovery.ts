import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ConfigDiscoveryClient as _weft_v1_ConfigDiscoveryClient, ConfigDiscoveryDefinition as _weft_v1_ConfigDiscoveryDefinition } from './weft/v1/ConfigDiscovery';
import type { DiscoveryRequest as _weft_v1_DiscoveryRequest, DiscoveryRequest__Output as _weft_v1_DiscoveryRequest__Output } from './weft/v1/DiscoveryRequest';
import type { DiscoveryResponse as _weft_v1_DiscoveryResponse, DiscoveryResponse__Output as _weft_v1_DiscoveryResponse__Output } from './weft/v1/DiscoveryResponse';
import type { Endpoint as _weft_v1_Endpoint, Endpoint__Output as _weft_v1_Endpoint__Output } from './weft/v1/Endpoint';
import type { Node as _weft_v1_Node, Node__Output as _weft_v1_Node__Output } from './weft/v1/Node';
import type { Resource as _weft_v1_Resource, Resource__Output as _weft_v1_Resource__Output } from './weft/v1/Resource';
import type { Service as _weft_v1_Service, Service__Output as _weft_v1_Service__Output } from './weft/v1/Service';
import type { ServiceEndpoints as _weft_v1_ServiceEndpoints, ServiceEndpoints__Output as _weft_v1_ServiceEndpoints__Output } from './weft/v1/ServiceEndpoints';
import type { ServicePort as _weft_v1_ServicePort, ServicePort__Output as _weft_v1_ServicePort__Output } from './weft/v1/ServicePort';
import type { Status as _weft_v1_Status, Status__Output as _weft_v1_Status__Output } from './weft/v1/Status';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  weft: {
    v1: {
      ConfigDiscovery: SubtypeConstructor<typeof grpc.Client, _weft_v1_ConfigDiscoveryClient> & { service: _weft_v1_ConfigDiscoveryDefinition }
      DiscoveryRequest: MessageTypeDefinition<_weft_v1_DiscoveryRequest, _weft_v1_DiscoveryRequest__Output>
      DiscoveryResponse: MessageTypeDefinition<_weft_v1_DiscoveryResponse, _weft_v1_DiscoveryResponse__Output>
      Endpoint: MessageTypeDefinition<_weft_v1_Endpoint, _weft_v1_Endpoint__Output>
      Node: MessageTypeDefinition<_weft_v1_Node, _weft_v1_Node__Output>
      Resource: MessageTypeDefinition<_weft_v1_Resource, _weft_v1_Resource__Output>
      Service: MessageTypeDefinition<_weft_v1_Service, _weft_v1_Service__Output>
      ServiceEndpoints: MessageTypeDefinition<_weft_v1_ServiceEndpoints, _weft_v1_ServiceEndpoints__Output>
      ServicePort: MessageTypeDefinition<_weft_v1_ServicePort, _weft_v1_ServicePort__Output>
      Status: MessageTypeDefinition<_weft_v1_Status, _weft_v1_Status__Output>
    }
  }
}

