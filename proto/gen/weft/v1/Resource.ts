// Original file: weft/v1/discovery.proto

import type { Service as _weft_v1_Service, Service__Output as _weft_v1_Service__Output } from '../../weft/v1/Service';
import type { ServiceEndpoints as _weft_v1_ServiceEndpoints, ServiceEndpoints__Output as _weft_v1_ServiceEndpoints__Output } from '../../weft/v1/ServiceEndpoints';

export interface Resource {
  'name'?: (string);
  'version'?: (string);
  'service'?: (_weft_v1_Service | null);
  'endpoints'?: (_weft_v1_ServiceEndpoints | null);
  'body'?: "service"|"endpoints";
}

export interface Resource__Output {
  'name': (string);
  'version': (string);
  'service'?: (_weft_v1_Service__Output | null);
  'endpoints'?: (_weft_v1_ServiceEndpoints__Output | null);
  'body'?: "service"|"endpoints";
}
