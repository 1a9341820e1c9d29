// Original file: weft/v1/discovery.proto

import type { Service as _weft_v1_Service, Service__Output as _weft_v1_Service__Output } from '../../weft/v1/Service';
import type { ServiceEndpoints as _weft_v1_ServiceEndpoints, ServiceEndpoints__Output as _weft_v1_ServiceEndpoints__Output } from '../../weft/v1/ServiceEndpoints';
import type { ServiceRoutes as _weft_v1_ServiceRoutes, ServiceRoutes__Output as _weft_v1_ServiceRoutes__Output } from '../../weft/v1/ServiceRoutes';
import type { ServicePolicy as _weft_v1_ServicePolicy, ServicePolicy__Output as _weft_v1_ServicePolicy__Output } from '../../weft/v1/ServicePolicy';
import type { TelemetryConfig as _weft_v1_TelemetryConfig, TelemetryConfig__Output as _weft_v1_TelemetryConfig__Output } from '../../weft/v1/TelemetryConfig';

export interface Resource {
  'name'?: (string);
  'version'?: (string);
  'service'?: (_weft_v1_Service | null);
  'endpoints'?: (_weft_v1_ServiceEndpoints | null);
  'routes'?: (_weft_v1_ServiceRoutes | null);
  'policy'?: (_weft_v1_ServicePolicy | null);
  'telemetry'?: (_weft_v1_TelemetryConfig | null);
  'body'?: "service"|"endpoints"|"routes"|"policy"|"telemetry";
}

export interface Resource__Output {
  'name': (string);
  'version': (string);
  'service'?: (_weft_v1_Service__Output | null);
  'endpoints'?: (_weft_v1_ServiceEndpoints__Output | null);
  'routes'?: (_weft_v1_ServiceRoutes__Output | null);
  'policy'?: (_weft_v1_ServicePolicy__Output | null);
  'telemetry'?: (_weft_v1_TelemetryConfig__Output | null);
  'body'?: "service"|"endpoints"|"routes"|"policy"|"telemetry";
}
