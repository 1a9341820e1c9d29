// Original file: weft/v1/registration.proto

import type { Endpoint as _weft_v1_Endpoint, Endpoint__Output as _weft_v1_Endpoint__Output } from '../../weft/v1/Endpoint';
import type { Service as _weft_v1_Service, Service__Output as _weft_v1_Service__Output } from '../../weft/v1/Service';

export interface SyncEndpointsRequest {
  'source'?: (string);
  'endpoints'?: (_weft_v1_Endpoint)[];
  'services'?: (_weft_v1_Service)[];
}

export interface SyncEndpointsRequest__Output {
  'source': (string);
  'endpoints': (_weft_v1_Endpoint__Output)[];
  'services': (_weft_v1_Service__Output)[];
}
