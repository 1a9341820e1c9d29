import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AuthorizationPolicySpec as _weft_v1_AuthorizationPolicySpec, AuthorizationPolicySpec__Output as _weft_v1_AuthorizationPolicySpec__Output } from './weft/v1/AuthorizationPolicySpec';
import type { AuthorizationRule as _weft_v1_AuthorizationRule, AuthorizationRule__Output as _weft_v1_AuthorizationRule__Output } from './weft/v1/AuthorizationRule';
import type { CircuitBreaker as _weft_v1_CircuitBreaker, CircuitBreaker__Output as _weft_v1_CircuitBreaker__Output } from './weft/v1/CircuitBreaker';
import type { ConfigDiscoveryClient as _weft_v1_ConfigDiscoveryClient, ConfigDiscoveryDefinition as _weft_v1_ConfigDiscoveryDefinition } from './weft/v1/ConfigDiscovery';
import type { ConsistentHash as _weft_v1_ConsistentHash, ConsistentHash__Output as _weft_v1_ConsistentHash__Output } from './weft/v1/ConsistentHash';
import type { DiscoveryRequest as _weft_v1_DiscoveryRequest, DiscoveryRequest__Output as _weft_v1_DiscoveryRequest__Output } from './weft/v1/DiscoveryRequest';
import type { DiscoveryResponse as _weft_v1_DiscoveryResponse, DiscoveryResponse__Output as _weft_v1_DiscoveryResponse__Output } from './weft/v1/DiscoveryResponse';
import type { Endpoint as _weft_v1_Endpoint, Endpoint__Output as _weft_v1_Endpoint__Output } from './weft/v1/Endpoint';
import type { FaultInjection as _weft_v1_FaultInjection, FaultInjection__Output as _weft_v1_FaultInjection__Output } from './weft/v1/FaultInjection';
import type { GenerateCookie as _weft_v1_GenerateCookie, GenerateCookie__Output as _weft_v1_GenerateCookie__Output } from './weft/v1/GenerateCookie';
import type { HeaderModifiers as _weft_v1_HeaderModifiers, HeaderModifiers__Output as _weft_v1_HeaderModifiers__Output } from './weft/v1/HeaderModifiers';
import type { HeaderOperations as _weft_v1_HeaderOperations, HeaderOperations__Output as _weft_v1_HeaderOperations__Output } from './weft/v1/HeaderOperations';
import type { HttpMirror as _weft_v1_HttpMirror, HttpMirror__Output as _weft_v1_HttpMirror__Output } from './weft/v1/HttpMirror';
import type { HttpRedirect as _weft_v1_HttpRedirect, HttpRedirect__Output as _weft_v1_HttpRedirect__Output } from './weft/v1/HttpRedirect';
import type { HttpRewrite as _weft_v1_HttpRewrite, HttpRewrite__Output as _weft_v1_HttpRewrite__Output } from './weft/v1/HttpRewrite';
import type { LoggingConfig as _weft_v1_LoggingConfig, LoggingConfig__Output as _weft_v1_LoggingConfig__Output } from './weft/v1/LoggingConfig';
import type { NamedAuthorization as _weft_v1_NamedAuthorization, NamedAuthorization__Output as _weft_v1_NamedAuthorization__Output } from './weft/v1/NamedAuthorization';
import type { NamedRoute as _weft_v1_NamedRoute, NamedRoute__Output as _weft_v1_NamedRoute__Output } from './weft/v1/NamedRoute';
import type { Node as _weft_v1_Node, Node__Output as _weft_v1_Node__Output } from './weft/v1/Node';
import type { OutlierDetection as _weft_v1_OutlierDetection, OutlierDetection__Output as _weft_v1_OutlierDetection__Output } from './weft/v1/OutlierDetection';
import type { RateLimit as _weft_v1_RateLimit, RateLimit__Output as _weft_v1_RateLimit__Output } from './weft/v1/RateLimit';
import type { ResiliencePolicySpec as _weft_v1_ResiliencePolicySpec, ResiliencePolicySpec__Output as _weft_v1_ResiliencePolicySpec__Output } from './weft/v1/ResiliencePolicySpec';
import type { Resource as _weft_v1_Resource, Resource__Output as _weft_v1_Resource__Output } from './weft/v1/Resource';
import type { RetryPolicy as _weft_v1_RetryPolicy, RetryPolicy__Output as _weft_v1_RetryPolicy__Output } from './weft/v1/RetryPolicy';
import type { RouteMatch as _weft_v1_RouteMatch, RouteMatch__Output as _weft_v1_RouteMatch__Output } from './weft/v1/RouteMatch';
import type { RouteRateLimit as _weft_v1_RouteRateLimit, RouteRateLimit__Output as _weft_v1_RouteRateLimit__Output } from './weft/v1/RouteRateLimit';
import type { RouteRule as _weft_v1_RouteRule, RouteRule__Output as _weft_v1_RouteRule__Output } from './weft/v1/RouteRule';
import type { RouteSpec as _weft_v1_RouteSpec, RouteSpec__Output as _weft_v1_RouteSpec__Output } from './weft/v1/RouteSpec';
import type { Service as _weft_v1_Service, Service__Output as _weft_v1_Service__Output } from './weft/v1/Service';
import type { ServiceEndpoints as _weft_v1_ServiceEndpoints, ServiceEndpoints__Output as _weft_v1_ServiceEndpoints__Output } from './weft/v1/ServiceEndpoints';
import type { ServicePolicy as _weft_v1_ServicePolicy, ServicePolicy__Output as _weft_v1_ServicePolicy__Output } from './weft/v1/ServicePolicy';
import type { ServicePort as _weft_v1_ServicePort, ServicePort__Output as _weft_v1_ServicePort__Output } from './weft/v1/ServicePort';
import type { ServicePortSpec as _weft_v1_ServicePortSpec, ServicePortSpec__Output as _weft_v1_ServicePortSpec__Output } from './weft/v1/ServicePortSpec';
import type { ServiceRoutes as _weft_v1_ServiceRoutes, ServiceRoutes__Output as _weft_v1_ServiceRoutes__Output } from './weft/v1/ServiceRoutes';
import type { ServiceSpec as _weft_v1_ServiceSpec, ServiceSpec__Output as _weft_v1_ServiceSpec__Output } from './weft/v1/ServiceSpec';
import type { Status as _weft_v1_Status, Status__Output as _weft_v1_Status__Output } from './weft/v1/Status';
import type { TelemetryConfig as _weft_v1_TelemetryConfig, TelemetryConfig__Output as _weft_v1_TelemetryConfig__Output } from './weft/v1/TelemetryConfig';
import type { TelemetrySpec as _weft_v1_TelemetrySpec, TelemetrySpec__Output as _weft_v1_TelemetrySpec__Output } from './weft/v1/TelemetrySpec';
import type { TracingConfig as _weft_v1_TracingConfig, TracingConfig__Output as _weft_v1_TracingConfig__Output } from './weft/v1/TracingConfig';
import type { WeightedSubset as _weft_v1_WeightedSubset, WeightedSubset__Output as _weft_v1_WeightedSubset__Output } from './weft/v1/WeightedSubset';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  weft: {
    v1: {
      AuthorizationPolicySpec: MessageTypeDefinition<_weft_v1_AuthorizationPolicySpec, _weft_v1_AuthorizationPolicySpec__Output>
      AuthorizationRule: MessageTypeDefinition<_weft_v1_AuthorizationRule, _weft_v1_AuthorizationRule__Output>
      CircuitBreaker: MessageTypeDefinition<_weft_v1_CircuitBreaker, _weft_v1_CircuitBreaker__Output>
      ConfigDiscovery: SubtypeConstructor<typeof grpc.Client, _weft_v1_ConfigDiscoveryClient> & { service: _weft_v1_ConfigDiscoveryDefinition }
      ConsistentHash: MessageTypeDefinition<_weft_v1_ConsistentHash, _weft_v1_ConsistentHash__Output>
      DiscoveryRequest: MessageTypeDefinition<_weft_v1_DiscoveryRequest, _weft_v1_DiscoveryRequest__Output>
      DiscoveryResponse: MessageTypeDefinition<_weft_v1_DiscoveryResponse, _weft_v1_DiscoveryResponse__Output>
      Endpoint: MessageTypeDefinition<_weft_v1_Endpoint, _weft_v1_Endpoint__Output>
      FaultInjection: MessageTypeDefinition<_weft_v1_FaultInjection, _weft_v1_FaultInjection__Output>
      GenerateCookie: MessageTypeDefinition<_weft_v1_GenerateCookie, _weft_v1_GenerateCookie__Output>
      HeaderModifiers: MessageTypeDefinition<_weft_v1_HeaderModifiers, _weft_v1_HeaderModifiers__Output>
      HeaderOperations: MessageTypeDefinition<_weft_v1_HeaderOperations, _weft_v1_HeaderOperations__Output>
      HttpMirror: MessageTypeDefinition<_weft_v1_HttpMirror, _weft_v1_HttpMirror__Output>
      HttpRedirect: MessageTypeDefinition<_weft_v1_HttpRedirect, _weft_v1_HttpRedirect__Output>
      HttpRewrite: MessageTypeDefinition<_weft_v1_HttpRewrite, _weft_v1_HttpRewrite__Output>
      LoggingConfig: MessageTypeDefinition<_weft_v1_LoggingConfig, _weft_v1_LoggingConfig__Output>
      NamedAuthorization: MessageTypeDefinition<_weft_v1_NamedAuthorization, _weft_v1_NamedAuthorization__Output>
      NamedRoute: MessageTypeDefinition<_weft_v1_NamedRoute, _weft_v1_NamedRoute__Output>
      Node: MessageTypeDefinition<_weft_v1_Node, _weft_v1_Node__Output>
      OutlierDetection: MessageTypeDefinition<_weft_v1_OutlierDetection, _weft_v1_OutlierDetection__Output>
      RateLimit: MessageTypeDefinition<_weft_v1_RateLimit, _weft_v1_RateLimit__Output>
      ResiliencePolicySpec: MessageTypeDefinition<_weft_v1_ResiliencePolicySpec, _weft_v1_ResiliencePolicySpec__Output>
      Resource: MessageTypeDefinition<_weft_v1_Resource, _weft_v1_Resource__Output>
      RetryPolicy: MessageTypeDefinition<_weft_v1_RetryPolicy, _weft_v1_RetryPolicy__Output>
      RouteMatch: MessageTypeDefinition<_weft_v1_RouteMatch, _weft_v1_RouteMatch__Output>
      RouteRateLimit: MessageTypeDefinition<_weft_v1_RouteRateLimit, _weft_v1_RouteRateLimit__Output>
      RouteRule: MessageTypeDefinition<_weft_v1_RouteRule, _weft_v1_RouteRule__Output>
      RouteSpec: MessageTypeDefinition<_weft_v1_RouteSpec, _weft_v1_RouteSpec__Output>
      Service: MessageTypeDefinition<_weft_v1_Service, _weft_v1_Service__Output>
      ServiceEndpoints: MessageTypeDefinition<_weft_v1_ServiceEndpoints, _weft_v1_ServiceEndpoints__Output>
      ServicePolicy: MessageTypeDefinition<_weft_v1_ServicePolicy, _weft_v1_ServicePolicy__Output>
      ServicePort: MessageTypeDefinition<_weft_v1_ServicePort, _weft_v1_ServicePort__Output>
      ServicePortSpec: MessageTypeDefinition<_weft_v1_ServicePortSpec, _weft_v1_ServicePortSpec__Output>
      ServiceRoutes: MessageTypeDefinition<_weft_v1_ServiceRoutes, _weft_v1_ServiceRoutes__Output>
      ServiceSpec: MessageTypeDefinition<_weft_v1_ServiceSpec, _weft_v1_ServiceSpec__Output>
      Status: MessageTypeDefinition<_weft_v1_Status, _weft_v1_Status__Output>
      TelemetryConfig: MessageTypeDefinition<_weft_v1_TelemetryConfig, _weft_v1_TelemetryConfig__Output>
      TelemetrySpec: MessageTypeDefinition<_weft_v1_TelemetrySpec, _weft_v1_TelemetrySpec__Output>
      TracingConfig: MessageTypeDefinition<_weft_v1_TracingConfig, _weft_v1_TracingConfig__Output>
      WeightedSubset: MessageTypeDefinition<_weft_v1_WeightedSubset, _weft_v1_WeightedSubset__Output>
    }
  }
}

